//! Ceph messages (msgr2.md §5, §6.6): the msgr2 message header, raw messages, and typed
//! encodings of the messages a MonClient and the `ceph` CLI need. Pure data: no I/O.
//!
//! # Layers
//!
//! 1. A MESSAGE frame's segments become a [`RawMessage`] ([`RawMessage::from_segments`]): the
//!    41-byte [`MsgHeader2`] (§5.2) decoded, front, middle and data kept as shared
//!    [`Bytes`](bytes::Bytes). [`RawMessage::to_segments`] goes back, for
//!    [`Frame::new`](crate::frames::Frame::new)`(Tag::Message, ..)`.
//! 2. A typed message implements [`CephMessage`]: its type number, HEAD and COMPAT versions
//!    (§6.6), and the encoding of its [`Payload`]. [`CephMessage::from_raw`] applies the version
//!    rules of §5.6 before decoding.
//! 3. [`Message`] is the enum a dispatcher matches on: [`Message::decode`] dispatches on the
//!    header's type, and types without a typed decoder stay [`Message::Unknown`].
//!
//! ```
//! use msgr::messages::{CephMessage, MMonCommand, Message};
//! use msgr::wire::{features::CEPH_FEATURES_ALL, Uuid};
//!
//! let cmd = MMonCommand::new(Uuid::NIL, vec![r#"{"prefix": "status"}"#.into()]);
//! let mut raw = cmd.to_raw(CEPH_FEATURES_ALL);
//! raw.header.tid = 2;
//! match Message::decode(raw).unwrap() {
//!     Message::MonCommand(got) => assert_eq!(got, cmd),
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! # Strictness
//!
//! For a sender at or below our HEAD version, the front must be consumed exactly, and a
//! middle or data segment that the type does not use must be empty: whatever is accepted
//! re-encodes to the same bytes. A sender with a newer `version` (but a `compat_version` we
//! meet) may append fields to the front; they are skipped, as Ceph's decoders do (§5.6).
//! Encoders assume a msgr2 peer with SERVER_NAUTILUS (§6.5), the only peers Pacific talks
//! msgr2 with.

#![forbid(unsafe_code)]

mod codec;
mod command;
mod config;
mod error;
mod header;
mod message;
mod mon_command;
mod monmap;
mod monmap_data;
mod ping;
mod raw;
mod subscribe;
mod tail;
mod types;
mod version;

#[cfg(test)]
mod test_util;

pub use codec::CephMessage;
pub use command::{MCommand, MCommandReply, MMgrCommand, MMgrCommandReply};
pub use config::{MConfig, MGetConfig};
pub use error::MessageError;
pub use header::{
    CEPH_MSG_FOOTER_COMPLETE, CEPH_MSG_FOOTER_NOCRC, CEPH_MSG_FOOTER_SIGNED, CEPH_MSG_PRIO_DEFAULT,
    CEPH_MSG_PRIO_HIGH, CEPH_MSG_PRIO_HIGHEST, CEPH_MSG_PRIO_LOW, CEPH_USERSPACE_HEADER_FLAGS,
    MsgHeader2,
};
pub use message::Message;
pub use mon_command::{MMonCommand, MMonCommandAck};
pub use monmap::{MMonGetMap, MMonMap};
pub use monmap_data::{ElectionStrategy, MonInfo, MonMap};
pub use ping::MPing;
pub use raw::{Payload, RawMessage};
pub use subscribe::{CEPH_SUBSCRIBE_ONETIME, MMonSubscribe, MMonSubscribeAck, SubscribeItem};
pub use tail::UnknownTail;
pub use types::*;
pub use version::{MMonGetVersion, MMonGetVersionReply};

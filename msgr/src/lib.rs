//! # cuttle-msgr: the event engine under cuttle's AsyncMessenger
//!
//! A port of Ceph's `src/msg/async` event layer. Every thread that does network I/O owns one
//! [`EventCenter`]; the center runs on a driver chosen at run time ([`DriverKind::Epoll`] on
//! `mio`, or [`DriverKind::IoUring`] with completion-based socket I/O). A [`NetworkStack`]
//! runs N `msgr-worker-N` threads, each with its own center.
//!
//! ## An event loop on the current thread
//!
//! ```
//! use std::time::Duration;
//! use msgr::{DriverConfig, DriverKind, EventCenter};
//!
//! let mut center = EventCenter::new(0, &DriverConfig::with_kind(DriverKind::Epoll)).unwrap();
//! let handle = center.handle(); // Send + Sync: give it to other threads
//! std::thread::spawn(move || handle.dispatch_event_external(|c| c.stop()));
//! center.create_time_event(Duration::from_millis(1), |_| println!("timer fired"));
//! while !center.is_stopped() {
//!     center.process_events(Some(Duration::from_secs(5))).unwrap();
//! }
//! ```
//!
//! ## Sockets
//!
//! Implement [`SocketHandler`] and give a connected stream to [`EventCenter::register_socket`]
//! (or use [`EventCenter::connect`] / [`EventCenter::listen`]). Received bytes arrive in
//! [`SocketHandler::on_data`]; [`EventCenter::send`] queues `Bytes` that the next iteration
//! writes with one `writev` (epoll) or `sendmsg` op (io_uring) per socket.
//!
//! ## Threads
//!
//! [`NetworkStack::start`] spawns the workers; [`NetworkStack::listen`] accepts on worker 0 and
//! places each connection on the least-loaded worker; [`NetworkStack::stop`] closes every
//! socket and joins the threads, reporting a handler panic as [`StackError::WorkerPanicked`].

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod event;
pub mod frames;
pub mod messages;
pub mod messenger;
pub mod net;
pub mod protocol;
#[allow(unsafe_code)]
pub mod sys;
pub mod wire;
pub mod worker;

pub use event::{
    CenterCounters, CenterGone, CenterHandle, DriverConfig, DriverKind, EventCenter, EventMask,
    TimerId,
};
pub use net::{CloseReason, ListenerId, SocketHandler, SocketId, bind_listener};
pub use worker::{NetworkStack, StackConfig, StackError, Worker};

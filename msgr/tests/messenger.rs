//! Two messengers in one process: handshake, dispatch, replies, on both drivers and policies.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use msgr::messages::{Message, MsgHeader2, RawMessage};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger, MessengerConfig};
use msgr::protocol::Policy;
use msgr::wire::{EntityAddrvec, EntityName, EntityType, Features};
use msgr::{DriverConfig, DriverKind, StackConfig};

const DEADLINE: Duration = Duration::from_secs(20);
/// A message type no Ceph message uses: our numbered test payload (front = u64 LE).
const TEST_TYPE: u16 = 0x7f01;

fn numbered(n: u64) -> RawMessage {
    let mut h = MsgHeader2::new(TEST_TYPE, 1, 1);
    h.tid = n;
    RawMessage {
        header: h,
        front: Bytes::copy_from_slice(&n.to_le_bytes()),
        middle: Bytes::new(),
        data: Bytes::new(),
    }
}

fn number_of(msg: &Incoming) -> Option<u64> {
    match &msg.message {
        Message::Unknown(raw) if raw.header.msg_type == TEST_TYPE => {
            Some(u64::from_le_bytes(raw.front[..8].try_into().ok()?))
        }
        _ => None,
    }
}

/// Records numbered messages; echoes each back on the same connection when `echo`.
struct Recorder {
    echo: bool,
    tx: Mutex<Sender<(u64, Connection)>>,
}

impl Dispatcher for Recorder {
    fn ms_dispatch(&self, conn: &Connection, msg: Incoming) -> Option<Incoming> {
        let n = number_of(&msg)?;
        if self.echo {
            conn.send_message(numbered(n));
        }
        let _ = self.tx.lock().unwrap().send((n, conn.clone()));
        None
    }
}

fn recorder(echo: bool) -> (Arc<Recorder>, Receiver<(u64, Connection)>) {
    let (tx, rx) = channel();
    (
        Arc::new(Recorder {
            echo,
            tx: Mutex::new(tx),
        }),
        rx,
    )
}

fn config(kind: DriverKind, workers: usize) -> MessengerConfig {
    MessengerConfig {
        stack: StackConfig {
            workers,
            driver: DriverConfig::with_kind(kind),
            cpus: vec![],
        },
        ..Default::default()
    }
}

fn pair(kind: DriverKind, policy: Policy) -> (Messenger, Messenger, EntityAddrvec) {
    let server = Messenger::new(EntityName::new(EntityType::OSD, "0"), 100, config(kind, 2));
    server.set_default_policy(policy);
    server.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    server.start().unwrap();
    let client = Messenger::new(EntityName::new(EntityType::OSD, "1"), 200, config(kind, 2));
    client.set_default_policy(policy);
    client.start().unwrap();
    let addrs = server.my_addrs();
    (server, client, addrs)
}

fn echo_round_trip(kind: DriverKind, policy: Policy) {
    let (server, client, addrs) = pair(kind, policy);
    let (srv, _srv_rx) = recorder(true);
    server.add_dispatcher_tail(srv);
    let (cli, cli_rx) = recorder(false);
    client.add_dispatcher_tail(cli);
    let conn = client.connect_to(EntityType::OSD, &addrs).unwrap();
    for n in 1..=1000 {
        conn.send_message(numbered(n));
    }
    for want in 1..=1000 {
        let (n, c) = cli_rx.recv_timeout(DEADLINE).expect("echo did not arrive");
        assert_eq!(n, want, "{kind}: out of order");
        assert_eq!(c, conn);
    }
    let peer = conn.peer().expect("connected");
    assert_eq!(peer.name.ty, EntityType::OSD);
    assert!(peer.features.contains(Features::from_bits(0)));
    client.shutdown().unwrap();
    server.shutdown().unwrap();
}

#[test]
fn epoll_lossy_echo() {
    echo_round_trip(
        DriverKind::Epoll,
        Policy::lossy_client(Features::from_bits(0)),
    );
}

#[test]
fn io_uring_lossy_echo() {
    echo_round_trip(
        DriverKind::IoUring,
        Policy::lossy_client(Features::from_bits(0)),
    );
}

#[test]
fn epoll_lossless_echo() {
    echo_round_trip(
        DriverKind::Epoll,
        Policy::lossless_peer(Features::from_bits(0)),
    );
}

#[test]
fn io_uring_lossless_echo() {
    echo_round_trip(
        DriverKind::IoUring,
        Policy::lossless_peer(Features::from_bits(0)),
    );
}

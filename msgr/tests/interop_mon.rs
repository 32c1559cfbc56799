//! Interop test 1 (issue 3): our messenger as a client of a real Ceph 16.2.15 ceph-mon:
//! fetch the MonMap and run mon commands, decoding the real replies.

mod ceph_ref;

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use msgr::messages::{MMonCommand, MMonCommandAck, MMonGetMap, MMonMap, Message};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger, MessengerConfig};
use msgr::protocol::Policy;
use msgr::wire::{EntityAddrvec, EntityName, EntityType, Uuid};
use msgr::{DriverConfig, DriverKind, StackConfig};

const DEADLINE: Duration = Duration::from_secs(30);

struct Forward(Mutex<Sender<Incoming>>);

impl Dispatcher for Forward {
    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        let _ = self.0.lock().unwrap().send(msg);
        None
    }
}

fn next_map(rx: &Receiver<Incoming>) -> MMonMap {
    loop {
        let m = rx.recv_timeout(DEADLINE).expect("no MMonMap from the mon");
        if let Message::MonMap(map) = m.message {
            return map;
        }
    }
}

fn command(
    conn: &Connection,
    rx: &Receiver<Incoming>,
    fsid: Uuid,
    tid: u64,
    json: &str,
) -> MMonCommandAck {
    conn.send(&MMonCommand::new(fsid, vec![json.to_string()]), tid);
    loop {
        let m = rx
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("no reply to {json}"));
        if let Message::MonCommandAck(ack) = m.message {
            assert_eq!(m.header.tid, tid, "the ack must carry the request's tid");
            return ack;
        }
    }
}

#[test]
fn client_against_real_ceph_mon() {
    let ceph = ceph_ref::CephRef::start(1, 0, 14300);
    for kind in DriverKind::ALL {
        run_client(&ceph, kind);
    }
}

fn run_client(ceph: &ceph_ref::CephRef, kind: DriverKind) {
    let fsid: Uuid = ceph.fsid().parse().unwrap();
    let mon: EntityAddrvec = ceph.mon_addr().parse().unwrap();
    let config = MessengerConfig {
        stack: StackConfig {
            workers: 2,
            driver: DriverConfig::with_kind(kind),
            cpus: vec![],
        },
        ..Default::default()
    };
    let msgr = Messenger::new(
        EntityName::new(EntityType::CLIENT, "admin"),
        0x1234_5678,
        config,
    );
    msgr.set_default_policy(Policy::librados());
    let (tx, rx) = channel();
    msgr.add_dispatcher_tail(Arc::new(Forward(Mutex::new(tx))));
    msgr.start().unwrap();

    let conn = msgr.connect_to(EntityType::MON, &mon).unwrap();
    conn.send(&MMonGetMap, 0);
    let map = next_map(&rx).monmap;
    assert_eq!(map.fsid, fsid);
    assert!(map.epoch > 0);
    let a = map.mon_info.get("a").expect("mon a in the MonMap");
    assert!(
        a.public_addrs.addrs.contains(&mon.addrs[0]),
        "mon a is at the address we dialled: {}",
        a.public_addrs
    );
    let peer = conn.peer().expect("session established");
    assert_eq!(peer.name.ty, EntityType::MON);
    assert!(peer.lossy, "a mon's sessions with clients are lossy (§4.1)");

    let stat = command(&conn, &rx, fsid, 1, r#"{"prefix": "mon stat"}"#);
    assert_eq!(stat.r, 0, "mon stat: {}", stat.rs);
    let text = String::from_utf8_lossy(&stat.data);
    assert!(
        text.contains("1 mons at") && text.contains(&format!("127.0.0.1:{}", ceph.port)),
        "mon stat said: {text}"
    );

    let status = command(&conn, &rx, fsid, 2, r#"{"prefix": "status"}"#);
    assert_eq!(status.r, 0, "status: {}", status.rs);
    let text = String::from_utf8_lossy(&status.data);
    assert!(
        text.contains("cluster:") && text.contains(&fsid.to_string()),
        "status said: {text}"
    );

    let descs = command(
        &conn,
        &rx,
        fsid,
        3,
        r#"{"prefix": "get_command_descriptions"}"#,
    );
    assert_eq!(descs.r, 0);
    let json: serde_json::Value =
        serde_json::from_slice(&descs.data).expect("command descriptions are JSON");
    assert!(
        json.as_object().is_some_and(|o| o.len() > 50),
        "expected many command descriptions"
    );

    let unknown = command(&conn, &rx, fsid, 4, r#"{"prefix": "no such command"}"#);
    assert_eq!(
        unknown.r, -22,
        "an unknown command is EINVAL: {}",
        unknown.rs
    );

    msgr.shutdown().unwrap();
}

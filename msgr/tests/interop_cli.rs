//! Interop test 2 (issue 3): the real Ceph 16.2.15 `ceph` CLI against our messenger. A small
//! responder built only on the public Messenger API (a fixture, not the future mon) answers
//! what msgr2.md §8.2 lists; `ceph -s` and `ceph mon stat` must exit 0 and print what it sent.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use msgr::messages::{MConfig, MMonCommand, MMonCommandAck, MMonMap, Message, MonInfo, MonMap};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger, MessengerConfig};
use msgr::protocol::Policy;
use msgr::wire::features::CEPH_FEATURES_ALL;
use msgr::wire::{EntityAddrvec, EntityName, EntityType, Features, MonFeatures, Uuid};
use msgr::{DriverConfig, DriverKind, StackConfig};

const STATUS: &str = "  cluster:\n    id:     CUTTLE-FIXTURE\n    health: HEALTH_OK\n";

struct FakeMon {
    fsid: Uuid,
    map: MonMap,
}

impl FakeMon {
    fn command(&self, req: &MMonCommand) -> MMonCommandAck {
        if req.fsid != self.fsid {
            return MMonCommandAck::reply_to(req, -1, "wrong fsid", Bytes::new());
        }
        let prefix = req
            .cmd
            .first()
            .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
            .and_then(|v| v["prefix"].as_str().map(str::to_string))
            .unwrap_or_default();
        match prefix.as_str() {
            "get_command_descriptions" => {
                let descs = serde_json::json!({
                    "cmd000": {"sig": ["status"], "help": "show cluster status", "module": "mon", "perm": "r", "flags": 0},
                    "cmd001": {"sig": ["mon", "stat"], "help": "summarize monitor status", "module": "mon", "perm": "r", "flags": 0},
                });
                MMonCommandAck::reply_to(req, 0, "", Bytes::from(descs.to_string()))
            }
            "status" => MMonCommandAck::reply_to(
                req,
                0,
                "",
                Bytes::from(STATUS.replace("CUTTLE-FIXTURE", &self.fsid.to_string())),
            ),
            "mon stat" => MMonCommandAck::reply_to(
                req,
                0,
                "",
                Bytes::from("e1: 1 mons served by cuttle's fixture\n"),
            ),
            _ => MMonCommandAck::reply_to(req, -22, "command not known", Bytes::new()),
        }
    }
}

impl Dispatcher for FakeMon {
    fn ms_dispatch(&self, conn: &Connection, msg: Incoming) -> Option<Incoming> {
        let tid = msg.header.tid;
        match &msg.message {
            Message::MonGetMap(_) => conn.send(
                &MMonMap {
                    monmap: Box::new(self.map.clone()),
                },
                0,
            ),
            Message::MonSubscribe(sub) => {
                if sub
                    .what
                    .get("monmap")
                    .is_some_and(|i| i.start <= u64::from(self.map.epoch))
                {
                    conn.send(
                        &MMonMap {
                            monmap: Box::new(self.map.clone()),
                        },
                        0,
                    );
                }
                if sub.what.contains_key("config") {
                    conn.send(&MConfig::default(), 0);
                }
            }
            Message::MonCommand(req) => conn.send(&self.command(req), tid),
            _ => return Some(msg),
        }
        None
    }
}

fn write_conf(dir: &Path, fsid: Uuid, port: u16) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let keyring = dir.join("keyring");
    std::fs::write(&keyring, "").unwrap();
    let conf = dir.join("ceph.conf");
    std::fs::write(
        &conf,
        format!(
            "[global]\nfsid = {fsid}\nmon_host = [v2:127.0.0.1:{port}]\nauth_cluster_required = none\n\
             auth_service_required = none\nauth_client_required = none\nms_mon_client_mode = crc\n\
             ms_client_mode = crc\nms_bind_msgr1 = false\nkeyring = {}\nlog_file = {}\n",
            keyring.display(),
            dir.join("client.log").display()
        ),
    )
    .unwrap();
    conf
}

fn ceph(conf: &Path, args: &[&str]) -> std::process::Output {
    Command::new("timeout")
        .arg("60")
        .arg("ceph")
        .arg("-c")
        .arg(conf)
        .args(["--connect-timeout", "30"])
        .args(args)
        .output()
        .expect("run ceph (install it with ../shared/ceph/install.sh)")
}

fn run_cli_against(kind: DriverKind) {
    let have = Command::new("sh").args(["-c", "command -v ceph"]).output();
    assert!(
        have.is_ok_and(|o| o.status.success()),
        "the ceph CLI is not installed: run ../shared/ceph/install.sh (CI does)"
    );
    let fsid: Uuid = "7a1e0c2d-3b4f-4e5a-8c6d-9e0f1a2b3c4d".parse().unwrap();
    let config = MessengerConfig {
        stack: StackConfig {
            workers: 2,
            driver: DriverConfig::with_kind(kind),
            cpus: vec![],
        },
        policies: msgr::protocol::Policies::uniform(Policy::stateless_server(Features::from_bits(
            0,
        ))),
        gid: 0,
        ..Default::default()
    };
    let msgr = Messenger::new(EntityName::new(EntityType::MON, "a"), 0, config);
    let addr = msgr.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = addr.sockaddr.unwrap().port();
    let mut map = MonMap::new(fsid, 1);
    map.persistent_features = MonFeatures::PACIFIC_PERSISTENT;
    map.min_mon_release = MonMap::RELEASE_PACIFIC;
    map.add_mon(MonInfo::new("a", EntityAddrvec { addrs: vec![addr] }));
    msgr.add_dispatcher_tail(Arc::new(FakeMon { fsid, map }));
    msgr.start().unwrap();
    assert!(CEPH_FEATURES_ALL.contains(Features::from_bits(0)));

    let dir = std::env::temp_dir().join(format!("cuttle-cli-{}-{kind}", std::process::id()));
    let conf = write_conf(&dir, fsid, port);
    let s = ceph(&conf, &["-s"]);
    assert!(
        s.status.success(),
        "{kind}: ceph -s failed: {}\n{}",
        String::from_utf8_lossy(&s.stdout),
        String::from_utf8_lossy(&s.stderr)
    );
    let out = String::from_utf8_lossy(&s.stdout);
    assert!(
        out.contains(&fsid.to_string()) && out.contains("HEALTH_OK"),
        "{kind}: ceph -s printed: {out}"
    );

    let stat = ceph(&conf, &["mon", "stat"]);
    assert!(
        stat.status.success(),
        "{kind}: ceph mon stat failed: {}",
        String::from_utf8_lossy(&stat.stderr)
    );
    assert!(
        String::from_utf8_lossy(&stat.stdout).contains("served by cuttle's fixture"),
        "{kind}: ceph mon stat printed: {}",
        String::from_utf8_lossy(&stat.stdout)
    );

    msgr.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ceph_cli_against_our_messenger_epoll() {
    run_cli_against(DriverKind::Epoll);
}

#[test]
fn ceph_cli_against_our_messenger_io_uring() {
    run_cli_against(DriverKind::IoUring);
}

//! The cuttle client of perf-msgr ([`run_client`]) and a whole cuttle run, server and client
//! in one process ([`run_cuttle`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msgr::DriverKind;
use msgr::messages::{MsgHeader2, RawMessage};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger};
use msgr::protocol::Policy;
use msgr::wire::{AddrType, EntityAddr, EntityAddrvec, EntityName, EntityType, Features};
use serde_json::Value;

use super::measure::{CpuProbe, Measured, ServerRx};
use super::params::{LoadParams, Reply, Tally, Window};
use super::report::params_json;
use super::server::{
    BenchServer, CuttleTuning, ServerConfig, Side, check_driver, messenger_config,
};
use super::{DRAIN_TIMEOUT, MSG_PERF_REPLY, MSG_PERF_REQUEST};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Per-connection client state; touched only by the connection's worker once traffic runs.
struct Slot {
    /// Requests sent and not yet answered, counted down only after the window.
    outstanding: AtomicUsize,
    tally: Mutex<Tally>,
}

struct ClientShared {
    window: Window,
    size: usize,
    payload: Bytes,
    /// By connection id; set before the first request is sent.
    slots: OnceLock<HashMap<u64, Slot>>,
    /// Connections whose last reply arrived after the window.
    finished: AtomicUsize,
    failed: AtomicBool,
}

impl ClientShared {
    fn request(&self, now: Instant) -> RawMessage {
        let mut header = MsgHeader2::new(MSG_PERF_REQUEST, 1, 1);
        header.tid = self.window.stamp(now);
        RawMessage {
            header,
            front: Bytes::new(),
            middle: Bytes::new(),
            data: self.payload.clone(),
        }
    }
}

struct ClientDispatcher(Arc<ClientShared>);

impl Dispatcher for ClientDispatcher {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        msg.header.msg_type == MSG_PERF_REPLY
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let now = Instant::now();
        let s = &self.0;
        let Some(slot) = s.slots.get().and_then(|m| m.get(&conn.id())) else {
            return;
        };
        lock(&slot.tally).record(&s.window, msg.header.tid, now, s.size);
        if now < s.window.end {
            conn.send_message(s.request(now));
        } else if slot.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            s.finished.fetch_add(1, Ordering::Release);
        }
    }

    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        Some(msg)
    }

    fn ms_handle_reset(&self, conn: &Connection) -> bool {
        eprintln!("perf client: connection {} was reset", conn.id());
        self.0.failed.store(true, Ordering::Relaxed);
        true
    }

    fn ms_handle_refused(&self, conn: &Connection) -> bool {
        eprintln!("perf client: connection {} was refused", conn.id());
        self.0.failed.store(true, Ordering::Relaxed);
        true
    }
}

/// The key `connect_to` registers connection `i` under. A messenger keeps one connection
/// per peer address vector, so the second and later sessions to the same server get a vector
/// that adds a never-dialled `v1:` placeholder; the msgr2 address dialled is the same. (The
/// server's `stateless_server` policy does not look clients up, so it accepts them all.)
pub fn session_key(server: &EntityAddrvec, i: usize) -> EntityAddrvec {
    if i == 0 {
        return server.clone();
    }
    let mut key = server.clone();
    key.addrs.push(EntityAddr::new(
        AddrType::Legacy,
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        i as u32,
    ));
    key
}

/// A nonce for a client messenger: differs between calls and between processes.
pub fn client_nonce() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    std::process::id()
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Runs the client load against `server` on `driver`; `label` goes in the report's params.
pub fn run_client(
    driver: DriverKind,
    server: &EntityAddrvec,
    p: &LoadParams,
    label: Value,
) -> anyhow::Result<Measured> {
    run_client_tuned(driver, server, p, label, CuttleTuning::default())
}

/// [`run_client`] with cuttle-only settings for the client messenger.
pub fn run_client_tuned(
    driver: DriverKind,
    server: &EntityAddrvec,
    p: &LoadParams,
    label: Value,
    tuning: CuttleTuning,
) -> anyhow::Result<Measured> {
    p.validate()?;
    let msgr = Messenger::new(
        EntityName::new(EntityType::CLIENT, "perf"),
        client_nonce(),
        messenger_config(driver, p.threads, p.recv_buf_size, tuning, Side::Client),
    );
    msgr.set_default_policy(Policy::lossy_client(Features::from_bits(0)));
    let shared = Arc::new(ClientShared {
        window: Window::new(p),
        size: p.size,
        payload: Bytes::from(vec![0x5a; p.size]),
        slots: OnceLock::new(),
        finished: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
    });
    msgr.add_dispatcher_tail(Arc::new(ClientDispatcher(shared.clone())));
    msgr.start()?;
    let cpu = CpuProbe::start(shared.window);
    let outcome = drive_client(&msgr, &shared, server, p);
    msgr.shutdown()?;
    outcome?;
    let cpu_s = cpu.finish();
    let mut all = Tally::default();
    for slot in shared.slots.get().into_iter().flat_map(|m| m.values()) {
        all.merge(std::mem::take(&mut *lock(&slot.tally)));
    }
    Ok(Measured {
        report: all.into_report(label, &shared.window),
        cpu_s,
        server_rx: None,
    })
}

fn drive_client(
    msgr: &Messenger,
    shared: &ClientShared,
    server: &EntityAddrvec,
    p: &LoadParams,
) -> anyhow::Result<()> {
    let conns = (0..p.conns)
        .map(|i| msgr.connect_to(EntityType::OSD, &session_key(server, i)))
        .collect::<Result<Vec<_>, _>>()?;
    let slots = conns
        .iter()
        .map(|c| {
            let slot = Slot {
                outstanding: AtomicUsize::new(p.depth),
                tally: Mutex::default(),
            };
            (c.id(), slot)
        })
        .collect();
    if shared.slots.set(slots).is_err() {
        anyhow::bail!("client slots set twice");
    }
    for c in &conns {
        for _ in 0..p.depth {
            c.send_message(shared.request(Instant::now()));
        }
    }
    let limit = shared.window.end + DRAIN_TIMEOUT;
    while shared.finished.load(Ordering::Acquire) < p.conns {
        anyhow::ensure!(
            !shared.failed.load(Ordering::Relaxed),
            "a connection failed"
        );
        anyhow::ensure!(
            Instant::now() < limit,
            "replies did not drain within {DRAIN_TIMEOUT:?} of the window's end"
        );
        thread::sleep(Duration::from_millis(5)); // polling a tool's progress, not a test
    }
    Ok(())
}

/// A server and a client in one process on `driver`, both with `tuning`. The result
/// carries the server's receive-copy statistics, and its params `busy_poll_us`.
pub fn run_cuttle(
    driver: DriverKind,
    p: &LoadParams,
    server_workers: usize,
    reply: Reply,
    tuning: CuttleTuning,
) -> anyhow::Result<Measured> {
    check_driver(driver)?;
    let server = BenchServer::start_tuned(
        &ServerConfig {
            driver,
            workers: server_workers,
            reply,
            nonce: 0,
            recv_buf_size: p.recv_buf_size,
        },
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        tuning,
    )?;
    let mut label = params_json(driver.as_str(), p, server_workers, reply);
    label["busy_poll_us"] = serde_json::json!(tuning.busy_poll_us());
    let result = run_client_tuned(driver, &server.addrs(), p, label, tuning).map(|mut m| {
        m.server_rx = Some(ServerRx {
            messages: server.served().0,
            stats: server.rx_copy_stats(),
        });
        m
    });
    server.shutdown()?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_differ_but_dial_the_same_address() {
        let server: EntityAddrvec = "v2:127.0.0.1:6800/7".parse().unwrap();
        let keys: Vec<_> = (0..3).map(|i| session_key(&server, i)).collect();
        assert_eq!(keys[0], server);
        assert_ne!(keys[1], keys[2]);
        for k in &keys {
            assert_eq!(k.msgr2_addr(), server.msgr2_addr());
        }
    }
}

//! The load, the same for both targets: `conns` connections on one client [`Messenger`]
//! (entity `client.perf`, the `librados` lossy-client policy, auth none), each keeping
//! `depth` [`MMonGetVersion`] requests in flight. Every reply is timed against its request's
//! send time and at once replaced by a new request.
//!
//! Requests carry a unique tid, `(connection index + 1) << 40 | sequence`, in both the
//! header and `handle` (as MonClient does, msgr2.md §6.6.7); a reply must name a request in
//! flight on its connection with both, or the run fails. Replies are fast-dispatched, so the
//! client's dispatch thread is not on the path.
//!
//! A run has an unmeasured warm-up (which also covers the handshakes), then the measured
//! window: a reply counts if it arrives in the window, and its latency counts if its request
//! was also sent in the window. After the window no new requests are sent; the run waits for
//! every request to be answered and checks that every connection was answered in the window.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use msgr::DriverKind;
use msgr::messages::{MMonGetVersion, Message};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger};
use msgr::protocol::Policy;
use msgr::wire::{EntityAddrvec, EntityName, EntityType};

use super::messenger_config;
use super::procfs::{CpuSnapshot, CpuUse, Pid};
use crate::msgr_bench::{client_nonce, session_key, sleep_until};
use crate::stats::Percentiles;

/// How long a run waits after its window for the requests still in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Bits of a tid below the connection index.
const TID_CONN_SHIFT: u32 = 40;

/// What the client runs.
#[derive(Clone, Debug)]
pub struct Load {
    /// Connections.
    pub conns: usize,
    /// Requests in flight per connection.
    pub depth: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Unmeasured seconds before the window.
    pub warmup: f64,
    /// Event driver of the client's workers.
    pub driver: DriverKind,
    /// Worker threads of the client messenger.
    pub client_workers: usize,
    /// The map asked about (`osdmap`).
    pub what: String,
}

impl Load {
    /// Checks that every count is positive.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.conns > 0 && self.depth > 0 && self.client_workers > 0,
            "conns, depth and client workers must be positive"
        );
        anyhow::ensure!(
            self.conns < 1 << (64 - TID_CONN_SHIFT - 1),
            "too many connections"
        );
        anyhow::ensure!(
            self.secs > 0.0 && self.warmup >= 0.0,
            "secs must be positive, warmup not negative"
        );
        Ok(())
    }
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Length of the measured window.
    pub window: Duration,
    /// Replies that arrived in the window.
    pub replies: u64,
    /// The same, per connection.
    pub replies_per_conn: Vec<u64>,
    /// Requests sent over the whole run (warm-up and drain included).
    pub sent_total: u64,
    /// Replies received over the whole run; equals `sent_total` for a run that succeeded.
    pub replies_total: u64,
    /// Round-trip latency of requests sent and answered in the window.
    pub latency: Percentiles,
    /// How many latencies that is.
    pub latency_samples: usize,
    /// `(version, oldest_version)` of the last reply.
    pub last_version: Option<(u64, u64)>,
    /// The server process's CPU over the window.
    pub server_cpu: CpuUse,
    /// This (client) process's CPU over the window.
    pub client_cpu: CpuUse,
    /// Messages the server sent that were not replies, by name.
    pub unsolicited: Vec<(String, u64)>,
}

impl Outcome {
    /// Replies per second in the window.
    pub fn req_per_sec(&self) -> f64 {
        self.replies as f64 / self.window.as_secs_f64()
    }
}

#[derive(Clone, Copy, Debug)]
struct Window {
    start: Instant,
    end: Instant,
}

/// A connection's requests; locked by its worker (replies) and once by the driving thread.
#[derive(Default)]
struct SlotState {
    next_seq: u64,
    /// Send time by tid.
    inflight: HashMap<u64, Instant>,
    sent: u64,
    answered: u64,
    in_window: u64,
    lat_ns: Vec<u64>,
    last_version: Option<(u64, u64)>,
    done: bool,
}

struct Slot {
    index: usize,
    state: Mutex<SlotState>,
}

impl Slot {
    /// Registers a new request sent at `now` and returns its tid.
    fn issue(&self, st: &mut SlotState, now: Instant) -> u64 {
        st.next_seq += 1;
        let tid = ((self.index as u64 + 1) << TID_CONN_SHIFT) | st.next_seq;
        st.inflight.insert(tid, now);
        st.sent += 1;
        tid
    }
}

#[derive(Default)]
struct Progress {
    finished: usize,
    failure: Option<String>,
    /// Replies whose tid or handle matched no request in flight.
    strays: u64,
    unsolicited: HashMap<&'static str, u64>,
}

struct Shared {
    window: Window,
    what: String,
    /// By connection id; set before the first request is sent.
    slots: OnceLock<HashMap<u64, Slot>>,
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Shared {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        lock(&self.progress)
    }

    fn fail(&self, why: String) {
        let mut p = self.progress();
        p.failure.get_or_insert(why);
        self.changed.notify_all();
    }

    fn request(&self, tid: u64) -> MMonGetVersion {
        MMonGetVersion {
            handle: tid,
            what: self.what.clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Client(Arc<Shared>);

impl Dispatcher for Client {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        matches!(msg.message, Message::MonGetVersionReply(_))
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let now = Instant::now();
        let s = &self.0;
        let Message::MonGetVersionReply(reply) = msg.message else {
            return;
        };
        let Some(slot) = s.slots.get().and_then(|m| m.get(&conn.id())) else {
            return;
        };
        let tid = msg.header.tid;
        let mut st = lock(&slot.state);
        let sent = match st.inflight.remove(&tid) {
            Some(t) if reply.handle == tid => t,
            _ => {
                drop(st);
                s.progress().strays += 1;
                return;
            }
        };
        st.answered += 1;
        st.last_version = Some((reply.version, reply.oldest_version));
        let w = s.window;
        if now >= w.start && now <= w.end {
            st.in_window += 1;
            if sent >= w.start {
                st.lat_ns
                    .push(now.saturating_duration_since(sent).as_nanos() as u64);
            }
        }
        if now < w.end {
            let next = slot.issue(&mut st, now);
            drop(st);
            conn.send(&s.request(next), next);
        } else if st.inflight.is_empty() && !st.done {
            st.done = true;
            drop(st);
            s.progress().finished += 1;
            s.changed.notify_all();
        }
    }

    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        *self
            .0
            .progress()
            .unsolicited
            .entry(msg.message.name())
            .or_default() += 1;
        None
    }

    fn ms_handle_reset(&self, conn: &Connection) -> bool {
        self.0.fail(format!("connection {} was reset", conn.id()));
        true
    }

    fn ms_handle_refused(&self, conn: &Connection) -> bool {
        self.0.fail(format!("connection {} was refused", conn.id()));
        true
    }
}

/// Reads the server's and our own CPU time at the window's start and end.
fn cpu_probe(w: Window, server: u32) -> thread::JoinHandle<(CpuUse, CpuUse)> {
    thread::spawn(move || {
        sleep_until(w.start);
        let (s0, c0) = (
            CpuSnapshot::take(Pid::Other(server)),
            CpuSnapshot::take(Pid::Myself),
        );
        sleep_until(w.end);
        let (s1, c1) = (
            CpuSnapshot::take(Pid::Other(server)),
            CpuSnapshot::take(Pid::Myself),
        );
        (s0.until(&s1), c0.until(&c1))
    })
}

/// Runs `load` against the mon (or responder) at `server`, whose process is `server_pid`.
pub fn run(load: &Load, server: &EntityAddrvec, server_pid: u32) -> anyhow::Result<Outcome> {
    load.validate()?;
    let msgr = Messenger::new(
        EntityName::new(EntityType::CLIENT, "perf"),
        client_nonce(),
        messenger_config(load.driver, load.client_workers),
    );
    msgr.set_default_policy(Policy::librados());
    let start = Instant::now() + Duration::from_secs_f64(load.warmup);
    let shared = Arc::new(Shared {
        window: Window {
            start,
            end: start + Duration::from_secs_f64(load.secs),
        },
        what: load.what.clone(),
        slots: OnceLock::new(),
        progress: Mutex::default(),
        changed: Condvar::new(),
    });
    msgr.add_dispatcher_tail(Arc::new(Client(shared.clone())));
    msgr.start()?;
    let probe = cpu_probe(shared.window, server_pid);
    let driven = drive(&msgr, &shared, server, load);
    msgr.shutdown()?;
    let (server_cpu, client_cpu) = probe
        .join()
        .map_err(|_| anyhow::anyhow!("the CPU probe panicked"))?;
    driven?;
    collect(&shared, load, server_cpu, client_cpu)
}

/// Connects, starts the requests, and waits until every one is answered.
fn drive(
    msgr: &Messenger,
    shared: &Shared,
    server: &EntityAddrvec,
    load: &Load,
) -> anyhow::Result<()> {
    let conns = (0..load.conns)
        .map(|i| msgr.connect_to(EntityType::MON, &session_key(server, i)))
        .collect::<Result<Vec<_>, _>>()?;
    let slots = conns
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let slot = Slot {
                index,
                state: Mutex::default(),
            };
            (c.id(), slot)
        })
        .collect();
    if shared.slots.set(slots).is_err() {
        anyhow::bail!("client slots set twice");
    }
    let slots = shared.slots.get().expect("just set");
    for c in &conns {
        let slot = &slots[&c.id()];
        let tids: Vec<u64> = {
            let mut st = lock(&slot.state);
            let now = Instant::now();
            (0..load.depth).map(|_| slot.issue(&mut st, now)).collect()
        };
        for tid in tids {
            c.send(&shared.request(tid), tid);
        }
    }
    let deadline = shared.window.end + DRAIN_TIMEOUT;
    let mut p = shared.progress();
    while p.finished < load.conns && p.failure.is_none() {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        p = shared
            .changed
            .wait_timeout(p, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    if let Some(why) = &p.failure {
        anyhow::bail!("{why}");
    }
    if p.finished < load.conns {
        drop(p);
        let missing: Vec<String> = conns
            .iter()
            .map(|c| {
                let st = lock(&slots[&c.id()].state);
                format!("{}/{}", st.answered, st.sent)
            })
            .collect();
        anyhow::bail!(
            "requests still unanswered {DRAIN_TIMEOUT:?} after the window (answered/sent per connection: {})",
            missing.join(" ")
        );
    }
    anyhow::ensure!(
        p.strays == 0,
        "{} replies matched no request in flight",
        p.strays
    );
    Ok(())
}

fn collect(
    shared: &Shared,
    load: &Load,
    server_cpu: CpuUse,
    client_cpu: CpuUse,
) -> anyhow::Result<Outcome> {
    let slots = shared.slots.get().expect("set by drive");
    let mut by_index: Vec<&Slot> = slots.values().collect();
    by_index.sort_by_key(|s| s.index);
    let (mut sent_total, mut replies_total) = (0, 0);
    let mut per_conn = Vec::with_capacity(load.conns);
    let mut lat = Vec::new();
    let mut last_version = None;
    for slot in by_index {
        let mut st = lock(&slot.state);
        sent_total += st.sent;
        replies_total += st.answered;
        per_conn.push(st.in_window);
        lat.append(&mut st.lat_ns);
        last_version = last_version.or(st.last_version);
    }
    anyhow::ensure!(
        sent_total == replies_total,
        "{replies_total} replies to {sent_total} requests"
    );
    if let Some(i) = per_conn.iter().position(|&n| n == 0) {
        anyhow::bail!("connection {i} got no reply in the window (per connection: {per_conn:?})");
    }
    let mut unsolicited: Vec<(String, u64)> = shared
        .progress()
        .unsolicited
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    unsolicited.sort();
    let latency_samples = lat.len();
    Ok(Outcome {
        window: shared.window.end - shared.window.start,
        replies: per_conn.iter().sum(),
        replies_per_conn: per_conn,
        sent_total,
        replies_total,
        latency: Percentiles::from_nanos(&mut lat),
        latency_samples,
        last_version,
        server_cpu,
        client_cpu,
        unsolicited,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_differ_but_dial_the_same_address() {
        let server: EntityAddrvec = "v2:127.0.0.1:3300/0".parse().unwrap();
        let keys: Vec<_> = (0..3).map(|i| session_key(&server, i)).collect();
        assert_eq!(keys[0], server);
        assert_ne!(keys[1], keys[2]);
        for k in &keys {
            assert_eq!(k.msgr2_addr(), server.msgr2_addr());
        }
    }

    #[test]
    fn tids_are_unique_per_connection() {
        let (a, b) = (
            Slot {
                index: 0,
                state: Mutex::default(),
            },
            Slot {
                index: 1,
                state: Mutex::default(),
            },
        );
        let now = Instant::now();
        let mut sa = SlotState::default();
        let mut sb = SlotState::default();
        let ta: Vec<u64> = (0..3).map(|_| a.issue(&mut sa, now)).collect();
        let tb: Vec<u64> = (0..3).map(|_| b.issue(&mut sb, now)).collect();
        assert!(ta.iter().all(|t| !tb.contains(t)));
        assert_eq!(sa.inflight.len(), 3);
        assert_eq!(ta[0], (1 << TID_CONN_SHIFT) | 1);
    }
}

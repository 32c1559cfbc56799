//! The cuttle side of perf-msgr: [`BenchServer`], a [`Messenger`] that answers every request
//! from its worker threads, and the configuration both cuttle sides share.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use msgr::frames::RxCopyStats;
use msgr::messages::{Message, MsgHeader2, RawMessage};
use msgr::messenger::{Connection, Dispatcher, Incoming, Messenger, MessengerConfig};
use msgr::protocol::Policy;
use msgr::wire::{EntityAddrvec, EntityName, EntityType, Features};
use msgr::{DriverConfig, DriverKind, NetworkStack, StackConfig};

use super::params::Reply;
use super::{MSG_PERF_REPLY, MSG_PERF_REQUEST};

/// cuttle-only settings of a run beyond [`LoadParams`](super::LoadParams), applied to both
/// the server's and the client's messenger. `Default`: all off, as in a product build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CuttleTuning {
    /// [`DriverConfig::busy_poll`]: spin up to this long before sleeping in the kernel.
    pub busy_poll: Option<Duration>,
    /// Pin the client messenger's workers to CPU 0 and the server's to CPU 1
    /// ([`StackConfig::cpus`]), instead of leaving placement to the scheduler.
    pub pin_split: bool,
}

impl CuttleTuning {
    /// `busy_poll` in whole microseconds, for a report's `params` (`None`: off).
    pub fn busy_poll_us(&self) -> Option<u64> {
        self.busy_poll.map(|d| d.as_micros() as u64)
    }
}

/// Which messenger of the pair a configuration is for (its CPU with `pin_split`).
#[derive(Clone, Copy, Debug)]
pub(super) enum Side {
    Client = 0,
    Server = 1,
}

pub(super) fn messenger_config(
    driver: DriverKind,
    workers: usize,
    recv_buf_size: Option<u32>,
    tuning: CuttleTuning,
    side: Side,
) -> MessengerConfig {
    let mut driver = DriverConfig::with_kind(driver);
    if let Some(n) = recv_buf_size {
        driver.recv_buf_size = n;
    }
    driver.busy_poll = tuning.busy_poll;
    MessengerConfig {
        stack: StackConfig {
            workers,
            driver,
            cpus: if tuning.pin_split {
                vec![side as usize]
            } else {
                Vec::new()
            },
        },
        ..MessengerConfig::default()
    }
}

/// Fails if the kernel would not give `driver` (io_uring silently falls back to epoll):
/// starts a one-worker stack and asks it.
pub fn check_driver(driver: DriverKind) -> anyhow::Result<()> {
    let mut stack = NetworkStack::start(&StackConfig {
        workers: 1,
        driver: DriverConfig::with_kind(driver),
        cpus: Vec::new(),
    })?;
    let actual = stack.workers()[0].driver();
    stack.stop()?;
    anyhow::ensure!(
        actual == driver,
        "asked for {driver} but the kernel gave {actual}"
    );
    Ok(())
}

/// Requests a [`BenchServer`] answered.
#[derive(Default)]
struct ServerStats {
    messages: AtomicU64,
    bytes: AtomicU64,
}

struct ServerDispatcher {
    /// `None`: echo the request's data.
    reply: Option<Bytes>,
    stats: Arc<ServerStats>,
}

impl Dispatcher for ServerDispatcher {
    fn ms_can_fast_dispatch(&self, msg: &Incoming) -> bool {
        msg.header.msg_type == MSG_PERF_REQUEST
    }

    fn ms_fast_dispatch(&self, conn: &Connection, msg: Incoming) {
        let Message::Unknown(raw) = msg.message else {
            return;
        };
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes
            .fetch_add(raw.data.len() as u64, Ordering::Relaxed);
        let mut header = MsgHeader2::new(MSG_PERF_REPLY, 1, 1);
        header.tid = raw.header.tid;
        let data = self.reply.clone().unwrap_or(raw.data);
        conn.send_message(RawMessage {
            header,
            front: Bytes::new(),
            middle: Bytes::new(),
            data,
        });
    }

    fn ms_dispatch(&self, _conn: &Connection, msg: Incoming) -> Option<Incoming> {
        Some(msg)
    }
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Event driver of the workers.
    pub driver: DriverKind,
    /// Worker threads.
    pub workers: usize,
    /// What each request is answered with.
    pub reply: Reply,
    /// Nonce in the server's address (clients must dial it exactly).
    pub nonce: u32,
    /// The driver's receive chunk (see
    /// [`LoadParams::recv_buf_size`](super::LoadParams::recv_buf_size)).
    pub recv_buf_size: Option<u32>,
}

/// A messenger that answers every [`MSG_PERF_REQUEST`] from its worker thread: an OSD-like
/// entity (`osd.0`) with Ceph's `stateless_server` policy for its clients.
pub struct BenchServer {
    msgr: Messenger,
    stats: Arc<ServerStats>,
}

impl BenchServer {
    /// Binds `bind` (port 0: any free port) and starts serving.
    pub fn start(cfg: &ServerConfig, bind: SocketAddr) -> anyhow::Result<BenchServer> {
        BenchServer::start_tuned(cfg, bind, CuttleTuning::default())
    }

    /// [`Self::start`] with cuttle-only settings.
    pub fn start_tuned(
        cfg: &ServerConfig,
        bind: SocketAddr,
        tuning: CuttleTuning,
    ) -> anyhow::Result<BenchServer> {
        anyhow::ensure!(cfg.workers > 0, "the server needs a worker");
        let msgr = Messenger::new(
            EntityName::new(EntityType::OSD, "0"),
            cfg.nonce,
            messenger_config(
                cfg.driver,
                cfg.workers,
                cfg.recv_buf_size,
                tuning,
                Side::Server,
            ),
        );
        msgr.set_default_policy(Policy::stateless_server(Features::from_bits(0)));
        let stats = Arc::new(ServerStats::default());
        let reply = match cfg.reply {
            Reply::Echo => None,
            Reply::Fixed(n) => Some(Bytes::from(vec![0u8; n])),
        };
        msgr.add_dispatcher_tail(Arc::new(ServerDispatcher {
            reply,
            stats: stats.clone(),
        }));
        msgr.bind(bind)?;
        msgr.start()?;
        Ok(BenchServer { msgr, stats })
    }

    /// The address clients dial (`v2:ip:port/nonce`).
    pub fn addrs(&self) -> EntityAddrvec {
        self.msgr.my_addrs()
    }

    /// Requests answered so far, and their data bytes.
    pub fn served(&self) -> (u64, u64) {
        (
            self.stats.messages.load(Ordering::Relaxed),
            self.stats.bytes.load(Ordering::Relaxed),
        )
    }

    /// How the bytes of the requests received so far reached their buffers (the server
    /// messenger's [`Messenger::rx_copy_stats`]).
    pub fn rx_copy_stats(&self) -> RxCopyStats {
        self.msgr.rx_copy_stats()
    }

    /// Closes every connection and joins the threads.
    pub fn shutdown(&self) -> anyhow::Result<()> {
        self.msgr.shutdown()?;
        Ok(())
    }
}

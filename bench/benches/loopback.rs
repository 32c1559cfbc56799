//! Loopback TCP echo: cuttle per driver against std::net, tokio and tokio-uring baselines, side
//! by side in one criterion group per workload.
//!
//! - `loopback_echo_4KiB_depth64`: 4 KiB messages, 64 in flight on one connection.
//! - `loopback_pingpong_64B`: 64-byte messages, one in flight.
//!
//! One iteration is one message echoed; throughput counts its bytes once (client → server →
//! client is `size` bytes of goodput). Each contender is a server thread plus a client on the
//! bench thread, started once before measuring (see `cuttle_bench` for who does what:
//! cuttle's client is an `EventCenter` on the bench thread and its server another center on its
//! own thread; tokio and tokio-uring use current-thread runtimes in the same two places; std
//! uses a server thread and a writer thread plus the bench thread as reader).
//!
//! Run: `cargo bench -p cuttle-bench --bench loopback`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use cuttle_bench::{
    CuttleEchoClient, CuttleEchoServer, EchoClient, StdEchoClient, StdEchoServer, TokioEchoClient,
    TokioEchoServer, TokioUringEchoClient, TokioUringEchoServer, Workload,
};
use msgr::DriverKind;

/// With `CUTTLE_BENCH_VERBOSE` set, each contender prints how many messages it echoed in
/// total (warm-up, estimation and measurement), so a `perf stat` of one contender can be
/// turned into per-message figures; cuttle contenders add their centers' loop counters.
fn verbose() -> bool {
    std::env::var_os("CUTTLE_BENCH_VERBOSE").is_some()
}

/// A server (kept alive while measuring) and its client.
struct Contender<S, C> {
    server: S,
    client: C,
    /// Messages echoed so far (warm-up, estimation and measurement).
    messages: u64,
}

/// Benchmarks one contender. `setup` runs on first use only, so a criterion filter that skips
/// the contender also skips starting its server. Returns the contender if it ran.
fn measure<S, C: EchoClient>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    setup: impl FnOnce() -> (S, C),
) -> Option<Contender<S, C>> {
    let mut setup = Some(setup);
    let mut slot: Option<Contender<S, C>> = None;
    group.bench_function(name, |b| {
        let c = slot.get_or_insert_with(|| {
            let (server, mut client) = setup.take().expect("set up once")();
            // Connection and socket buffers warm before timing.
            client.run(1_000).expect("warm-up run");
            Contender {
                server,
                client,
                messages: 1_000,
            }
        });
        b.iter_custom(|iters| {
            c.messages += iters;
            let start = Instant::now();
            c.client.run(iters).expect("echo run");
            start.elapsed()
        })
    });
    slot
}

fn report(name: &str, messages: u64, extra: &str) {
    if verbose() {
        eprintln!("{name}: {messages} messages echoed{extra}");
    }
}

fn echo_group(c: &mut Criterion, name: &str, w: Workload) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(w.size as u64));

    let std = measure(&mut group, "std", || {
        let server = StdEchoServer::start().expect("std server");
        let client = StdEchoClient::connect(server.addr(), w).expect("std client");
        (server, client)
    });
    if let Some(c) = std {
        report(&format!("{name}/std"), c.messages, "");
    }

    let tokio = measure(&mut group, "tokio", || {
        let server = TokioEchoServer::start().expect("tokio server");
        let client = TokioEchoClient::connect(server.addr(), w).expect("tokio client");
        (server, client)
    });
    if let Some(c) = tokio {
        report(&format!("{name}/tokio"), c.messages, "");
    }

    let tokio_uring = measure(&mut group, "tokio_uring", || {
        let server = TokioUringEchoServer::start().expect("tokio-uring server");
        let client = TokioUringEchoClient::connect(server.addr(), w).expect("tokio-uring client");
        (server, client)
    });
    if let Some(c) = tokio_uring {
        report(&format!("{name}/tokio_uring"), c.messages, "");
    }

    for driver in DriverKind::ALL {
        let id = format!("cuttle_{driver}");
        let cuttle = measure(&mut group, &id, || {
            let server = CuttleEchoServer::start(driver).expect("cuttle server");
            let client =
                CuttleEchoClient::connect(server.addr(), driver, w).expect("cuttle client");
            if server.driver() != driver || client.driver() != driver {
                eprintln!("warning: {driver} unavailable, cuttle fell back to epoll");
            }
            (server, client)
        });
        if let Some(c) = cuttle.filter(|_| verbose()) {
            let (cc, sc) = (
                c.client.center().counters(),
                c.server.counters().expect("server counters"),
            );
            let per = |x: u64| x as f64 / c.messages as f64;
            let extra = format!(
                "; per message: client loops {:.3}, file events {:.3}; \
                 server loops {:.3}, file events {:.3}",
                per(cc.loops),
                per(cc.file_events),
                per(sc.loops),
                per(sc.file_events)
            );
            report(&format!("{name}/{id}"), c.messages, &extra);
        }
    }
    group.finish();
}

fn echo_4k_depth64(c: &mut Criterion) {
    echo_group(c, "loopback_echo_4KiB_depth64", Workload::PIPELINED_4K);
}

fn pingpong_64(c: &mut Criterion) {
    echo_group(c, "loopback_pingpong_64B", Workload::PING_PONG_64);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    targets = echo_4k_depth64, pingpong_64
}
criterion_main!(benches);

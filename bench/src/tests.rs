//! The contenders echo exactly, and every client completes runs against every server.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use msgr::DriverKind;

use super::*;

/// Each server returns exactly what a plain blocking client sent, in order.
fn check_server(addr: SocketAddr) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    let mut got = vec![0; data.len()];
    thread::scope(|sc| {
        let mut w = &s;
        sc.spawn(move || w.write_all(&data).unwrap());
        (&s).read_exact(&mut got).unwrap();
    });
    let expect: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    assert!(got == expect, "echoed bytes differ");
    s.shutdown(Shutdown::Both).unwrap();
}

fn check_client(what: &str, mut client: impl EchoClient) {
    for n in [1, 1000, 0, 77] {
        if let Err(e) = client.run(n) {
            panic!("{what}: run({n}) with {:?}: {e}", client.workload());
        }
    }
}

#[test]
fn servers_echo_exactly() {
    for driver in DriverKind::ALL {
        let s = CuttleEchoServer::start(driver).unwrap();
        check_server(s.addr());
    }
    check_server(StdEchoServer::start().unwrap().addr());
    check_server(TokioEchoServer::start().unwrap().addr());
    check_server(TokioUringEchoServer::start().unwrap().addr());
}

#[test]
fn clients_complete_runs_against_every_server() {
    for w in [Workload::PIPELINED_4K, Workload::PING_PONG_64] {
        let std_server = StdEchoServer::start().unwrap();
        let tokio_server = TokioEchoServer::start().unwrap();
        let uring_server = TokioUringEchoServer::start().unwrap();
        let cuttle_servers: Vec<_> = DriverKind::ALL
            .iter()
            .map(|&d| CuttleEchoServer::start(d).unwrap())
            .collect();
        let mut addrs = vec![std_server.addr(), tokio_server.addr(), uring_server.addr()];
        addrs.extend(cuttle_servers.iter().map(CuttleEchoServer::addr));
        let names = [
            "std",
            "tokio",
            "tokio-uring",
            "cuttle epoll",
            "cuttle io_uring",
        ];
        for (addr, server) in addrs.into_iter().zip(names) {
            for driver in DriverKind::ALL {
                let what = format!("cuttle {driver} client, {server} server");
                check_client(&what, CuttleEchoClient::connect(addr, driver, w).unwrap());
            }
            let what = format!("std client, {server} server");
            check_client(&what, StdEchoClient::connect(addr, w).unwrap());
            let what = format!("tokio client, {server} server");
            check_client(&what, TokioEchoClient::connect(addr, w).unwrap());
            let what = format!("tokio-uring client, {server} server");
            check_client(&what, TokioUringEchoClient::connect(addr, w).unwrap());
        }
    }
}

#[test]
fn center_thread_runs_external_events_and_stops() {
    let (t, v) = CenterThread::spawn("t", DriverKind::Epoll, |_| Ok(5)).unwrap();
    assert_eq!(v, 5);
    assert_eq!(t.handle().submit_to(|| 7).unwrap(), 7);
    t.stop().unwrap();
}

//! Peer input never panics (STYLE.md): random bytes, and random corruptions of a real
//! captured stream, fed to both roles in random splits. Every outcome is an event.

use std::time::Instant;

use proptest::prelude::*;

use super::*;
use crate::frames::Banner;
use crate::protocol::Protocol;

fn feed(p: &mut Protocol, bytes: &[u8], chunk: usize, now: Instant) {
    for piece in bytes.chunks(chunk.max(1)) {
        p.handle_input(piece, now);
        while p.poll_transmit().is_some() {}
        while p.poll_event().is_some() {}
    }
    p.handle_timeout(now + std::time::Duration::from_secs(3600));
    p.handle_transport_closed(now);
    while p.poll_transmit().is_some() {}
    while p.poll_event().is_some() {}
}

/// A client's side of a complete handshake plus a few messages, as our own client writes it.
fn client_stream() -> Vec<u8> {
    let now = Instant::now();
    let cfg = mon_config();
    let mut client =
        Protocol::new_client(client_config(), EntityType::MON, &cfg.addrs, now).unwrap();
    let mut server = Protocol::new_server(cfg, "127.0.0.1:5000".parse().unwrap(), now);
    let mut out = Vec::new();
    for i in 0..3u8 {
        client.send_message(msg(&[i; 20]), now);
    }
    for _ in 0..10 {
        while let Some(t) = client.poll_transmit() {
            out.extend(t.to_vec());
            server.handle_input(&t.to_vec(), now);
        }
        while let Some(t) = server.poll_transmit() {
            client.handle_input(&t.to_vec(), now);
        }
    }
    assert!(server.is_ready());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_after_a_banner(tail in proptest::collection::vec(any::<u8>(), 0..300), chunk in 1usize..40) {
        let now = Instant::now();
        let mut bytes = Banner::pacific().encode().to_vec();
        bytes.extend(tail);
        let mut server = Protocol::new_server(mon_config(), "127.0.0.1:5000".parse().unwrap(), now);
        feed(&mut server, &bytes, chunk, now);
        let mut client = Protocol::new_client(
            lossless_client(), EntityType::OSD,
            &EntityAddrvec::single(v2("127.0.0.1:6800", 1)), now).unwrap();
        feed(&mut client, &bytes, chunk, now);
    }

    #[test]
    fn corrupted_real_streams(flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4), chunk in 1usize..64) {
        let now = Instant::now();
        let mut bytes = client_stream();
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        let mut server = Protocol::new_server(mon_config(), "127.0.0.1:5000".parse().unwrap(), now);
        feed(&mut server, &bytes, chunk, now);
    }
}

//! Listening sockets: bind to an address or a port range (Ceph's `ms_bind_port_min/max`),
//! accept on a center.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::ops::RangeInclusive;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::event::{EventCenter, EventMask};

/// A listener registered on a center; see [`EventCenter::listen`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(RawFd);

/// Binds a listening socket (with `SO_REUSEADDR`, like Ceph) on `ip` at the first free port of
/// `ports`; `0..=0` asks the kernel for any port. Fails with `AddrInUse` if all are taken.
pub fn bind_listener(ip: IpAddr, ports: RangeInclusive<u16>) -> io::Result<TcpListener> {
    let mut last = None;
    for port in ports {
        match mio::net::TcpListener::bind(SocketAddr::new(ip, port)) {
            Ok(l) => return Ok(OwnedFd::from(l).into()),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty port range")))
}

impl EventCenter {
    /// Accepts connections on `listener` from this center's loop; each accepted stream goes to
    /// `on_accept`, which may register it here or hand it to another center.
    pub fn listen(
        &mut self,
        listener: TcpListener,
        mut on_accept: impl FnMut(&mut EventCenter, TcpStream, SocketAddr) + 'static,
    ) -> io::Result<ListenerId> {
        listener.set_nonblocking(true)?;
        let fd = listener.as_raw_fd();
        self.create_file_event(fd, EventMask::READABLE, move |center, _, _| {
            loop {
                match listener.accept() {
                    Ok((stream, peer)) => on_accept(center, stream, peer),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                    Err(e) => {
                        tracing::error!(center = center.id(), error = %e, "accept failed");
                        break;
                    }
                }
            }
        })?;
        Ok(ListenerId(fd))
    }

    /// Stops accepting and closes the listener.
    pub fn close_listener(&mut self, id: ListenerId) {
        self.delete_file_event(id.0, EventMask::ALL);
    }
}

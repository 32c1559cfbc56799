//! An [`EventCenter`] running on a thread of its own.

use std::io;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

use msgr::{CenterHandle, DriverConfig, DriverKind, EventCenter};

use crate::IDLE_WAIT;

/// An [`EventCenter`] running on a thread of its own until dropped (or until something calls
/// [`EventCenter::stop`] on it).
pub struct CenterThread {
    handle: CenterHandle,
    driver: DriverKind,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl CenterThread {
    /// Spawns thread `name`, creates a center with `driver` on it, runs `setup` there and hands
    /// back its result; then the thread loops on
    /// [`process_events`](EventCenter::process_events) until the center is stopped.
    pub fn spawn<T: Send + 'static>(
        name: &str,
        driver: DriverKind,
        setup: impl FnOnce(&mut EventCenter) -> io::Result<T> + Send + 'static,
    ) -> io::Result<(CenterThread, T)> {
        let (tx, rx) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let started = EventCenter::new(0, &DriverConfig::with_kind(driver))
                    .and_then(|mut center| Ok((setup(&mut center)?, center)));
                let mut center = match started {
                    Ok((value, center)) => {
                        let _ = tx.send(Ok((value, center.handle(), center.driver_kind())));
                        center
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return Ok(());
                    }
                };
                while !center.is_stopped() {
                    center.process_events(Some(IDLE_WAIT))?;
                }
                Ok(())
            })?;
        let (value, handle, driver) = rx
            .recv()
            .map_err(|_| io::Error::other("center thread died during setup"))??;
        Ok((
            CenterThread {
                handle,
                driver,
                thread: Some(thread),
            },
            value,
        ))
    }

    /// A handle to the center.
    pub fn handle(&self) -> &CenterHandle {
        &self.handle
    }

    /// The driver the center actually runs (io_uring falls back to epoll when refused).
    pub fn driver(&self) -> DriverKind {
        self.driver
    }

    /// Stops the center and joins the thread, returning the loop's error if it failed.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.handle.dispatch_event_external(|c| c.stop());
        thread
            .join()
            .map_err(|_| io::Error::other("center thread panicked"))?
    }
}

impl Drop for CenterThread {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

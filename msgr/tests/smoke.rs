use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use msgr::*;

struct Echo;
impl SocketHandler for Echo {
    fn on_data(&mut self, c: &mut EventCenter, s: SocketId, d: &[u8]) {
        c.send(s, Bytes::copy_from_slice(d)).unwrap();
    }
}

struct Client {
    got: Rc<RefCell<Vec<u8>>>,
    connected: Rc<RefCell<bool>>,
}
impl SocketHandler for Client {
    fn on_connected(&mut self, _c: &mut EventCenter, _s: SocketId) {
        *self.connected.borrow_mut() = true;
    }
    fn on_data(&mut self, _c: &mut EventCenter, _s: SocketId, d: &[u8]) {
        self.got.borrow_mut().extend_from_slice(d);
    }
}

#[test]
fn echo_both_drivers() {
    for kind in DriverKind::ALL {
        let mut c = EventCenter::new(0, &DriverConfig::with_kind(kind)).unwrap();
        assert_eq!(c.driver_kind(), kind);
        let l = bind_listener("127.0.0.1".parse().unwrap(), 0..=0).unwrap();
        let addr = l.local_addr().unwrap();
        c.listen(l, |c, s, _| {
            c.register_socket(s, Echo).unwrap();
        })
        .unwrap();
        let got = Rc::new(RefCell::new(Vec::new()));
        let connected = Rc::new(RefCell::new(false));
        let id = c
            .connect(
                addr,
                Client {
                    got: got.clone(),
                    connected: connected.clone(),
                },
            )
            .unwrap();
        let payload: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
        c.send(id, Bytes::from(payload.clone())).unwrap();
        let ok = c
            .run_until(Duration::from_secs(10), |_| {
                got.borrow().len() >= payload.len()
            })
            .unwrap();
        assert!(ok, "{kind}: got {} bytes", got.borrow().len());
        assert!(*connected.borrow());
        assert_eq!(*got.borrow(), payload);
        // cross-thread wakeup
        let h = c.handle();
        let t = std::thread::spawn(move || h.submit_to(|| 42).unwrap());
        let done = Rc::new(RefCell::new(false));
        let _ = done;
        c.run_until(Duration::from_secs(5), |_| t.is_finished())
            .unwrap();
        assert_eq!(t.join().unwrap(), 42);
    }
}

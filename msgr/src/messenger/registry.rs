//! The messenger's connection registry: connections by peer address, used to find an existing
//! session when a peer connects again (§4.9, §4.10) and by `connect_to` to reuse a connection.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::MessengerInner;
use super::connection::{ConnInner, Connection, judge_local, pump, set_replaced, table};
use crate::event::EventCenter;
use crate::protocol::{SessionLookup, Verdict};

/// Registers `conn` under its peer addresses (replacing an older connection to that peer).
pub(crate) fn remember(msgr: &MessengerInner, conn: &Connection) {
    let addrs = conn.peer_addrs();
    if addrs.addrs.is_empty() {
        return;
    }
    msgr.registry().insert(addrs, conn.clone());
}

/// Forgets `conn` (closed for good).
pub(crate) fn forget(msgr: &MessengerInner, conn: &Connection) {
    let addrs = conn.peer_addrs();
    let mut reg = msgr.registry();
    if reg.get(&addrs) == Some(conn) {
        reg.remove(&addrs);
    }
    drop(reg);
    msgr.all().remove(&conn.id());
}

/// Answers a new connection's [`SessionLookup`]: finds an existing connection to the same peer
/// and has its own worker judge the request against it, then resolves the new connection.
pub(crate) fn lookup(
    c: &mut EventCenter,
    msgr: &Arc<MessengerInner>,
    rc: &Rc<RefCell<ConnInner>>,
    lookup: SessionLookup,
) {
    let me = rc.borrow().conn.clone();
    let existing = msgr
        .registry()
        .get(&lookup.peer_addrs)
        .filter(|old| **old != me && !old.is_closed())
        .cloned();
    let Some(old) = existing else {
        rc.borrow_mut()
            .proto
            .resolve_lookup(Verdict::NoSession, Instant::now());
        return;
    };
    if old.0.center.in_thread() {
        let v = judge_local(c, old.id(), &lookup);
        if matches!(v, Verdict::Reuse(_)) {
            set_replaced(&old, &me);
        }
        rc.borrow_mut().proto.resolve_lookup(v, Instant::now());
        return;
    }
    // The existing connection lives on another worker: judge there, resolve back here.
    let (my_center, my_id) = (me.0.center.clone(), me.id());
    let old_center = old.0.center.clone();
    old_center.dispatch_event_external(move |oc| {
        let v = judge_local(oc, old.id(), &lookup);
        if matches!(v, Verdict::Reuse(_)) {
            set_replaced(&old, &me);
        }
        my_center.dispatch_event_external(move |mc| {
            if let Some(rc) = table(mc).get(my_id) {
                rc.borrow_mut().proto.resolve_lookup(v, Instant::now());
                pump(mc, &rc);
            }
        });
    });
}

//! The messenger's connection registry: connections by peer address, used to find an existing
//! session when a peer connects again (§4.9, §4.10) and by `connect_to` to reuse a connection.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::MessengerInner;
use super::connection::{ConnInner, Connection, pump, set_replaced, table};
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
        let v = judge_existing(c, msgr, &old, &me, &lookup);
        rc.borrow_mut().proto.resolve_lookup(v, Instant::now());
        return;
    }
    // The existing connection lives on another worker: judge there, resolve back here.
    let (my_center, my_id) = (me.0.center.clone(), me.id());
    let old_center = old.0.center.clone();
    let msgr = msgr.clone();
    old_center.dispatch_event_external(move |oc| {
        let v = judge_existing(oc, &msgr, &old, &me, &lookup);
        my_center.dispatch_event_external(move |mc| {
            if let Some(rc) = table(mc).get(my_id) {
                rc.borrow_mut().proto.resolve_lookup(v, Instant::now());
                pump(mc, &rc);
            }
        });
    });
}

/// Judges `lookup` against `old`, on `old`'s worker. If `old` hands its session over to `new`
/// (§4.9 reuse, §4.10 row 9), `new` becomes the registered connection to the peer at once,
/// before `old` closes and forgets itself: the session is then never unregistered while it
/// travels to `new`'s worker (a lookup meanwhile would find no session and answer
/// SESSION_RESET, making the peer drop its queue), and a newcomer finds `new`, which answers
/// "being replaced" (§4.9 row 2, §4.10 row 3) until the session arrives. Sends on `old` now
/// go to `new`.
fn judge_existing(
    c: &mut EventCenter,
    msgr: &MessengerInner,
    old: &Connection,
    new: &Connection,
    lookup: &SessionLookup,
) -> Verdict {
    let Some(rc) = table(c).get(old.id()) else {
        return Verdict::NoSession;
    };
    let v = rc.borrow_mut().proto.judge(lookup, Instant::now());
    if matches!(v, Verdict::Reuse(_)) {
        msgr.registry()
            .insert(lookup.peer_addrs.clone(), new.clone());
        set_replaced(old, new);
    }
    pump(c, &rc);
    v
}

//! Test harness: [`Protocol`] objects of several messengers ("nodes") wired together in
//! memory, on a simulated clock, in the manner of quinn-proto's `Pair`. Bytes travel between
//! them in arbitrary chunk sizes; an [`Interceptor`] (after crimson's) can drop, fault or stall
//! a connection at a given frame tag and direction. The harness plays the messenger too: it
//! dials for `Transmit::Connect`, answers `SessionLookup` from its registry of connections
//! (at once, or, like a messenger whose connections live on several workers, later:
//! [`Net::defer_verdicts`]), and auto-accepts `AuthRequest`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::frames::Tag;
use crate::wire::{EntityAddr, EntityAddrvec, EntityType};

use super::{Config, Event, Protocol, Transmit, Verdict};

/// Which way bytes travel on a link: from the side that dialled, or towards it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Dialler to acceptor.
    C2S,
    /// Acceptor to dialler.
    S2C,
}

/// What the interceptor does with a matching frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The frame vanishes; the stream goes on.
    Drop,
    /// The link breaks at the frame: the bytes before it are delivered, it and everything
    /// after it are lost, then both ends see the transport close.
    Fault,
    /// The frame and everything after it in that direction are held until
    /// [`Net::release`].
    Stall,
    /// Nothing: the rule only counts ([`Interceptor::seen`]).
    Pass,
}

/// A rule: the `nth` (1-based, counted over the whole run; 0 for every one) frame with
/// `tag` going `dir`. `tag == None` matches the banner.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Only on links dialled by this connection, if set.
    pub dialler: Option<usize>,
    pub dir: Dir,
    pub tag: Option<Tag>,
    pub nth: usize,
    pub action: Action,
    seen: usize,
}

/// Breakpoints on frames.
#[derive(Clone, Debug, Default)]
pub struct Interceptor {
    rules: Vec<Rule>,
}

impl Interceptor {
    /// Acts on the `nth` frame with `tag` going `dir`.
    pub fn at(&mut self, dir: Dir, tag: Tag, nth: usize, action: Action) {
        self.rules.push(Rule {
            dialler: None,
            dir,
            tag: Some(tag),
            nth,
            action,
            seen: 0,
        });
    }

    /// Like [`Self::at`], on links dialled by connection `dialler` only.
    pub fn at_conn(&mut self, dialler: usize, dir: Dir, tag: Tag, nth: usize, action: Action) {
        self.rules.push(Rule {
            dialler: Some(dialler),
            dir,
            tag: Some(tag),
            nth,
            action,
            seen: 0,
        });
    }

    /// How many frames with `tag` going `dir` the rules for them have seen.
    pub fn seen(&self, dir: Dir, tag: Tag) -> usize {
        self.rules
            .iter()
            .filter(|r| r.dir == dir && r.tag == Some(tag))
            .map(|r| r.seen)
            .max()
            .unwrap_or(0)
    }

    fn check(&mut self, dialler: usize, dir: Dir, tag: Option<Tag>) -> Option<Action> {
        let mut hit = None;
        for rule in &mut self.rules {
            if rule.dir == dir && rule.tag == tag && rule.dialler.is_none_or(|d| d == dialler) {
                rule.seen += 1;
                if rule.nth == 0 || rule.seen == rule.nth {
                    hit.get_or_insert(rule.action);
                }
            }
        }
        hit
    }
}

#[derive(Debug, Default)]
struct Pipe {
    /// Bytes on the wire, not yet delivered.
    bytes: VecDeque<u8>,
    /// Frames held by a stall.
    held: VecDeque<Vec<u8>>,
    stalled: bool,
    /// A fault cut the pipe here: later frames are lost; once the bytes before the cut are
    /// delivered, the link breaks.
    cut: bool,
    /// The sender closed its end: deliver what is on the wire, then EOF.
    fin: bool,
}

#[derive(Debug)]
struct Link {
    /// Connection ids: the dialler and the acceptor.
    ends: [usize; 2],
    pipes: [Pipe; 2],
    open: bool,
}

/// One connection object in the net.
#[derive(Debug)]
pub struct Conn {
    pub proto: Protocol,
    pub node: usize,
    pub events: Vec<Event>,
    link: Option<usize>,
    /// Whether this connection dialled (its link index 0) or accepted (1).
    side: usize,
}

/// A messenger: its config, and how its acceptors are configured.
#[derive(Debug)]
pub struct Node {
    pub cfg: Config,
}

/// Connections of several nodes wired together on a simulated clock.
#[derive(Debug)]
pub struct Net {
    pub now: Instant,
    pub nodes: Vec<Node>,
    pub conns: Vec<Conn>,
    links: Vec<Link>,
    pub interceptor: Interceptor,
    /// Largest chunk `handle_input` is given; chunk sizes vary pseudo-randomly up to it.
    pub max_chunk: usize,
    /// When set, a `SessionLookup` is judged at once (on the existing connection, as the
    /// messenger does on that connection's worker) but its verdict is only handed to the
    /// asking connection by [`Self::deliver_verdicts`] (the messenger's trip back to the
    /// asker's worker): a window in which the session is in neither connection.
    pub defer_verdicts: bool,
    verdicts: Vec<(usize, Verdict)>,
    rng: u64,
    next_port: u16,
}

impl Net {
    /// An empty net. Its clock starts at an arbitrary instant (read once here) and only
    /// moves through [`Self::advance`] and [`Self::run_until`].
    pub fn new() -> Self {
        Net {
            now: Instant::now(),
            nodes: Vec::new(),
            conns: Vec::new(),
            links: Vec::new(),
            interceptor: Interceptor::default(),
            max_chunk: 7,
            defer_verdicts: false,
            verdicts: Vec::new(),
            rng: 0x2545_f491_4f6c_dd1d,
            next_port: 40000,
        }
    }

    /// Adds a node; returns its index.
    pub fn add_node(&mut self, cfg: Config) -> usize {
        self.nodes.push(Node { cfg });
        self.nodes.len() - 1
    }

    /// Node `node` dials `peer` (a node that listens); returns the connection id.
    pub fn connect(&mut self, node: usize, peer: usize, peer_type: EntityType) -> usize {
        let addrs = self.nodes[peer].cfg.addrs.clone();
        let proto = Protocol::new_client(self.nodes[node].cfg.clone(), peer_type, &addrs, self.now)
            .expect("peer has a v2 address");
        self.conns.push(Conn {
            proto,
            node,
            events: Vec::new(),
            link: None,
            side: 0,
        });
        let id = self.conns.len() - 1;
        let target = self.conns[id].proto.target_addr().expect("target");
        self.dial(id, target);
        id
    }

    fn node_ip(&self, node: usize) -> std::net::IpAddr {
        self.nodes[node]
            .cfg
            .addrs
            .front()
            .ip()
            .filter(|ip| !ip.is_unspecified())
            .unwrap_or_else(|| std::net::IpAddr::from([127, 0, 0, 100 + node as u8]))
    }

    /// Opens a transport from connection `from` to whatever node listens on `target`.
    fn dial(&mut self, from: usize, target: EntityAddr) {
        let Some(peer) = self
            .nodes
            .iter()
            .position(|n| n.cfg.addrs.iter().any(|a| a.sockaddr == target.sockaddr))
        else {
            self.conns[from].proto.handle_transport_closed(self.now);
            return;
        };
        self.next_port += 1;
        let socket = SocketAddr::new(self.node_ip(self.conns[from].node), self.next_port);
        let proto = Protocol::new_server(self.nodes[peer].cfg.clone(), socket, self.now);
        self.conns.push(Conn {
            proto,
            node: peer,
            events: Vec::new(),
            link: None,
            side: 1,
        });
        let acceptor = self.conns.len() - 1;
        self.links.push(Link {
            ends: [from, acceptor],
            pipes: Default::default(),
            open: true,
        });
        let link = self.links.len() - 1;
        self.conns[from].link = Some(link);
        self.conns[from].side = 0;
        self.conns[acceptor].link = Some(link);
    }

    fn chunk(&mut self) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        1 + (self.rng % self.max_chunk.max(1) as u64) as usize
    }

    /// Runs until nothing moves: transmits are routed, bytes delivered, events handled.
    pub fn run(&mut self) {
        for _ in 0..100_000 {
            let mut progress = false;
            for id in 0..self.conns.len() {
                progress |= self.pump_transmits(id);
                progress |= self.pump_events(id);
            }
            for link in 0..self.links.len() {
                progress |= self.deliver(link);
            }
            if !progress {
                return;
            }
        }
        panic!("the net does not settle");
    }

    fn pump_transmits(&mut self, id: usize) -> bool {
        let mut progress = false;
        while let Some(t) = self.conns[id].proto.poll_transmit() {
            progress = true;
            match t {
                Transmit::Connect(addr) => self.dial(id, addr),
                Transmit::Close => {
                    if let Some(link) = self.conns[id].link.take() {
                        let side = self.conns[id].side;
                        let l = &mut self.links[link];
                        l.pipes[side].fin = true;
                        // The closer reads nothing more from this link.
                        l.pipes[1 - side].bytes.clear();
                        l.pipes[1 - side].held.clear();
                    }
                }
                Transmit::Banner(_) | Transmit::Frame { .. } => {
                    let Some(link) = self.conns[id].link else {
                        continue;
                    };
                    let side = self.conns[id].side;
                    let dir = if side == 0 { Dir::C2S } else { Dir::S2C };
                    let tag = match &t {
                        Transmit::Frame { tag, .. } => Some(*tag),
                        _ => None,
                    };
                    let bytes = t.to_vec();
                    if self.links[link].pipes[side].cut {
                        continue;
                    }
                    let dialler = self.links[link].ends[0];
                    match self.interceptor.check(dialler, dir, tag) {
                        Some(Action::Drop) => {}
                        Some(Action::Pass) | None if self.links[link].pipes[side].stalled => {
                            self.links[link].pipes[side].held.push_back(bytes);
                        }
                        Some(Action::Fault) => self.links[link].pipes[side].cut = true,
                        Some(Action::Stall) => {
                            let pipe = &mut self.links[link].pipes[side];
                            pipe.stalled = true;
                            pipe.held.push_back(bytes);
                        }
                        Some(Action::Pass) | None => {
                            self.links[link].pipes[side].bytes.extend(bytes);
                        }
                    }
                }
            }
        }
        progress
    }

    /// Breaks `link`: bytes in flight are lost and both ends see the transport close.
    pub fn break_link(&mut self, link: usize) {
        let l = &mut self.links[link];
        if !l.open {
            return;
        }
        l.open = false;
        l.pipes = Default::default();
        let ends = l.ends;
        for end in ends {
            if self.conns[end].link == Some(link) {
                self.conns[end].link = None;
                self.conns[end].proto.handle_transport_closed(self.now);
            }
        }
    }

    fn deliver(&mut self, link: usize) -> bool {
        let mut progress = false;
        for side in 0..2 {
            let to = self.links[link].ends[1 - side];
            if !self.links[link].pipes[side].bytes.is_empty() {
                let n = self.chunk().min(self.links[link].pipes[side].bytes.len());
                let chunk: Vec<u8> = self.links[link].pipes[side].bytes.drain(..n).collect();
                if self.conns[to].link == Some(link) {
                    self.conns[to].proto.handle_input(&chunk, self.now);
                }
                progress = true;
            } else if self.links[link].pipes[side].cut
                && self.links[link].pipes[side].held.is_empty()
            {
                self.break_link(link);
                return true;
            } else if self.links[link].pipes[side].fin && self.links[link].open {
                self.links[link].pipes[side].fin = false;
                if self.conns[to].link == Some(link) {
                    self.conns[to].link = None;
                    self.conns[to].proto.handle_transport_closed(self.now);
                }
                progress = true;
            }
        }
        progress
    }

    /// Lets the frames held by a stall in `dir` on every link go.
    pub fn release(&mut self, dir: Dir) {
        let side = if dir == Dir::C2S { 0 } else { 1 };
        for l in &mut self.links {
            let pipe = &mut l.pipes[side];
            pipe.stalled = false;
            while let Some(b) = pipe.held.pop_front() {
                pipe.bytes.extend(b);
            }
        }
    }

    fn pump_events(&mut self, id: usize) -> bool {
        let mut progress = false;
        while let Some(event) = self.conns[id].proto.poll_event() {
            progress = true;
            match &event {
                Event::AuthRequest(info) => {
                    let gid = match info.payload.global_id() {
                        0 => self.nodes[self.conns[id].node].cfg.shared.next_global_id(),
                        g => g,
                    };
                    self.conns[id].proto.accept_auth(gid, self.now);
                }
                Event::SessionLookup(lookup) => {
                    let node = self.conns[id].node;
                    let existing = (0..self.conns.len()).find(|&j| {
                        j != id
                            && self.conns[j].node == node
                            && !self.conns[j].proto.is_closed()
                            && self.registered_as(j, &lookup.peer_addrs)
                    });
                    let verdict = match existing {
                        Some(j) => self.conns[j].proto.judge(lookup, self.now),
                        None => Verdict::NoSession,
                    };
                    if self.defer_verdicts {
                        self.verdicts.push((id, verdict));
                    } else {
                        self.conns[id].proto.resolve_lookup(verdict, self.now);
                    }
                }
                _ => {}
            }
            self.conns[id].events.push(event);
        }
        progress
    }

    /// Hands the verdicts held back by [`Self::defer_verdicts`] to their connections, oldest
    /// first; returns how many.
    pub fn deliver_verdicts(&mut self) -> usize {
        let verdicts = std::mem::take(&mut self.verdicts);
        let n = verdicts.len();
        for (id, verdict) in verdicts {
            self.conns[id].proto.resolve_lookup(verdict, self.now);
        }
        n
    }

    /// Whether connection `id` is registered under `addrs` (Ceph's `lookup_conn`): by the
    /// addresses its peer identified with, or, before that, by the address it dialled.
    fn registered_as(&self, id: usize, addrs: &EntityAddrvec) -> bool {
        let p = &self.conns[id].proto;
        match p.peer() {
            Some(peer) => peer.addrs == *addrs,
            None => p.target_addr().is_some_and(|t| addrs.contains(&t)),
        }
    }

    /// Advances the clock to `deadline`, firing timers on the way and running after each.
    pub fn run_until(&mut self, deadline: Instant) {
        loop {
            self.run();
            let next = self
                .conns
                .iter()
                .filter_map(|c| c.proto.poll_timeout())
                .min();
            match next {
                Some(t) if t <= deadline => {
                    self.now = self.now.max(t);
                    for c in &mut self.conns {
                        if c.proto.poll_timeout().is_some_and(|t| t <= self.now) {
                            c.proto.handle_timeout(self.now);
                        }
                    }
                }
                _ => {
                    self.now = deadline;
                    self.run();
                    return;
                }
            }
        }
    }

    /// [`Self::run_until`] `now + d`.
    pub fn advance(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// A net with a server node (0) and a client node (1) whose client dialled the server and
    /// ran: the `Pair` of quinn-proto. Returns it with the client's and the server's
    /// connection ids.
    pub fn pair(server: Config, client: Config, peer_type: EntityType) -> (Net, usize, usize) {
        let mut net = Net::new();
        let s = net.add_node(server);
        let c = net.add_node(client);
        let cc = net.connect(c, s, peer_type);
        net.run();
        let sc = net.live(s)[0];
        (net, cc, sc)
    }

    /// The fronts of the messages connection `id` received, in order, draining them.
    pub fn take_messages(&mut self, id: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.conns[id].events.retain(|e| match e {
            Event::Message(m) => {
                out.push(m.front.to_vec());
                false
            }
            _ => true,
        });
        out
    }

    /// The live (not closed) connections of `node`.
    pub fn live(&self, node: usize) -> Vec<usize> {
        (0..self.conns.len())
            .filter(|&j| self.conns[j].node == node && !self.conns[j].proto.is_closed())
            .collect()
    }

    /// The open link, if any, of connection `id`.
    pub fn link_of(&self, id: usize) -> Option<usize> {
        self.conns[id].link
    }

    /// Addresses of a node.
    pub fn addrs(&self, node: usize) -> EntityAddrvec {
        self.nodes[node].cfg.addrs.clone()
    }
}

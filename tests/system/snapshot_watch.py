"""Watching a q53d cluster while it takes and installs Raft snapshots:
DNS pollers (one thread per node, answers timestamped, longest gap without
an answer), a Raft status watcher (term and leader of every node, through
`q53 status`) and the snapshot lines of the nodes' logs.

Shared by tests/system/test_snapshot.py (CI size) and
tests/bench/snapshot_scale.py (1M records). Every loop is bounded by a
stop event and a deadline; only sockets and threads are created here.
"""
import json
import re
import socket
import threading
import time

import dns.message
import dns.rcode

from cluster import q53

SNAP_RE = re.compile(r"snapshot at (\d+): (?:(\d+) bytes, ([\d.]+) ms on the loop"
                     r"|captured in ([\d.]+) ms)")
ENCODED_RE = re.compile(r"snapshot encoded: (\d+) bytes, ([\d.]+) ms off the loop")
RESTORE_RE = re.compile(r"snapshot restore: (\d+) bytes, ([\d.]+) ms on the loop")


class DnsPoller:
    """Queries qname on one node continuously; keeps the times of answers.

    The measured window starts with start() (or restart(), after the node
    was restarted: from its first answer) and ends with stop()."""

    def __init__(self, host, port, qname, interval=0.002, timeout=0.1,
                 max_s=600.0):
        self.addr = (host, port)
        self.wire = dns.message.make_query(qname, "A").to_wire()
        self.interval = interval
        self.timeout = timeout
        self.max_s = max_s
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.thread = None
        self.t_start = None
        self.t_end = None
        self.last_ok = None
        self.max_gap = 0.0
        self.gap_at = None
        self.queries = 0
        self.answers = 0
        self.paused = False

    def start(self):
        self.t_start = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def pause(self):
        """The node is stopped on purpose: no gap is counted until the
        first answer after resume()."""
        with self.lock:
            self.paused = True

    def resume(self):
        with self.lock:
            self.paused = False
            self.last_ok = None

    def _ok(self, sock):
        sock.send(self.wire)
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            sock.settimeout(left)
            data = sock.recv(65535)
            if data[:2] == self.wire[:2]:
                r = dns.message.from_wire(data)
                return r.rcode() == dns.rcode.NOERROR and len(r.answer) > 0

    def _run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(self.addr)
        hard_end = time.monotonic() + self.max_s
        try:
            while not self.stop_ev.is_set() and time.monotonic() < hard_end:
                try:
                    ok = self._ok(sock)
                except OSError:  # refused (node stopped), timeout
                    ok = False
                now = time.monotonic()
                with self.lock:
                    self.queries += 1
                    if ok and not self.paused:
                        self.answers += 1
                        if self.last_ok is not None and now - self.last_ok > self.max_gap:
                            self.max_gap = now - self.last_ok
                            self.gap_at = self.last_ok
                        self.last_ok = now
                self.stop_ev.wait(self.interval)
        finally:
            sock.close()

    def stop(self):
        self.stop_ev.set()
        if self.thread:
            self.thread.join(timeout=5)
        now = time.monotonic()
        with self.lock:
            self.t_end = now
            if self.last_ok is not None and not self.paused and now - self.last_ok > self.max_gap:
                self.max_gap = now - self.last_ok
                self.gap_at = self.last_ok
            if self.last_ok is None and not self.paused:
                self.max_gap = now - self.t_start
        return self.max_gap


class StatusWatch:
    """Polls `q53 status` of every node; records (state, term, leader)."""

    def __init__(self, nodes_fn, interval=0.25, max_s=600.0):
        self.nodes_fn = nodes_fn  # -> the nodes to ask now
        self.interval = interval
        self.max_s = max_s
        self.stop_ev = threading.Event()
        self.thread = None
        self.seen = []  # (t, node id, state, term, leader)

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        hard_end = time.monotonic() + self.max_s
        while not self.stop_ev.is_set() and time.monotonic() < hard_end:
            for n in self.nodes_fn():
                if not n.alive():
                    continue
                try:
                    p = q53(n.api, "status", timeout_s=2, proc_timeout=5)
                except Exception:  # noqa: BLE001 (a node busy or stopping)
                    continue
                if p.returncode != 0:
                    continue
                try:
                    st = json.loads(p.stdout)
                except ValueError:
                    continue
                self.seen.append((time.monotonic(), n.id, st.get("State"),
                                  st.get("Term"), st.get("LeaderId")))
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        if self.thread:
            self.thread.join(timeout=15)

    def terms(self):
        return sorted({s[3] for s in self.seen if s[3]})

    def leaders(self):
        """Distinct (term, leader) pairs with a leader."""
        return sorted({(s[3], s[4]) for s in self.seen if s[4]})

    def non_followers(self):
        """(node, state) seen as candidate (an election started)."""
        return sorted({(s[1], s[2]) for s in self.seen if s[2] == "candidate"})


def snapshot_lines(text):
    """{'take': [(index, bytes, ms on the loop)], 'encode': [(bytes, ms)],
    'restore': [(bytes, ms)]} from a node's log."""
    take, enc, rest = [], [], []
    for m in SNAP_RE.finditer(text):
        if m.group(2):
            take.append((int(m.group(1)), int(m.group(2)), float(m.group(3))))
        else:
            take.append((int(m.group(1)), None, float(m.group(4))))
    for m in ENCODED_RE.finditer(text):
        enc.append((int(m.group(1)), float(m.group(2))))
    for m in RESTORE_RE.finditer(text):
        rest.append((int(m.group(1)), float(m.group(2))))
    return {"take": take, "encode": enc, "restore": rest}


# --- the scenario ---------------------------------------------------------------

def _change_body(name, i):
    ip = f"172.{16 + (i >> 16 & 15)}.{i >> 8 & 255}.{i & 255}"
    return json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": ip}]}}]})


def stream_changes(c, origin, first, count, timeout=300.0, batch=1):
    """count UPSERTs c<first>..c<first+count-1>.<origin>, one change batch
    each (batch names per batch), through `q53 change-batch` on the current
    leader, not waiting for INSYNC; the name of the last one."""
    deadline = time.monotonic() + timeout
    leader = c.wait_leader(timeout=30)
    i = first
    name = None
    while i < first + count:
        if time.monotonic() > deadline:
            raise AssertionError(f"changes not accepted within {timeout}s (at {i})")
        names = [f"c{k}.{origin}" for k in range(i, min(first + count, i + batch))]
        body = json.dumps({"Changes": [json.loads(_change_body(nm, i + k))["Changes"][0]
                                       for k, nm in enumerate(names)]})
        p = q53(leader.api, "change-batch", origin, "-", stdin=body, timeout_s=10,
                proc_timeout=30)
        if p.returncode != 0:
            leader = c.wait_leader(timeout=30)
            continue
        name = names[-1]
        i += len(names)
    return name


def wait_answer(node, qname, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not node.alive():
            raise AssertionError(f"node {node.id} exited:\n{node.output()[-3000:]}")
        try:
            r = node.query(qname, timeout=0.2)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                return
        except Exception:  # noqa: BLE001 (not answering yet)
            pass
        time.sleep(0.02)
    raise AssertionError(f"node {node.id} does not answer {qname} within {timeout}s")


def wait_log(node, pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred(snapshot_lines(node.output())):
            return
        if not node.alive():
            break
        time.sleep(0.1)
    raise AssertionError(f"node {node.id}: no {what} within {timeout}s:\n"
                         f"{node.output()[-3000:]}")


def scenario(c, origin, probe, threshold, timeout, join=True, log=print,
             poll_interval=0.002, status_interval=0.25):
    """c: a running 3-node cluster serving origin (probe: a name of it).
    1. take: a stream of changes until every node has taken snapshots;
    2. install: a follower stopped, the log moves on past its compaction,
       the follower restarted: it installs the leader's snapshot;
    3. join (join=True): node 4 joins and installs the snapshot.
    DNS is polled on every node throughout, status watched. Returns the
    measurements."""
    nodes = {n.id: n for n in c.members()}
    polls = {i: DnsPoller(n.host, n.dns_port, probe, interval=poll_interval).start()
             for i, n in nodes.items()}
    watch = StatusWatch(c.members, interval=status_interval).start()
    t0 = time.monotonic()
    phases = {}
    try:
        before = {i: len(snapshot_lines(n.output())["take"]) for i, n in nodes.items()}
        ts = time.monotonic()
        last = stream_changes(c, origin, 0, 2 * threshold + 8, timeout=timeout)
        for i, n in nodes.items():
            wait_log(n, lambda s, i=i: len(s["take"]) > before[i], timeout, "snapshot taken")
        phases["take"] = time.monotonic() - ts
        log(f"take phase: {phases['take']:.1f}s")

        ts = time.monotonic()
        lid = c.wait_leader(timeout=30).id
        n3 = nodes[max(i for i in nodes if i != lid)]  # a follower
        polls[n3.id].pause()
        n3.stop()
        last = stream_changes(c, origin, 100000, 3 * threshold + 8, timeout=timeout)
        # the leader's log no longer holds what node 3 lacks: it must
        # install a snapshot (each node has compacted at least once since)
        n3.start()
        wait_answer(n3, probe, timeout)
        polls[n3.id].resume()
        wait_log(n3, lambda s: len(s["restore"]) >= 1, timeout, "snapshot restore")
        wait_answer(n3, last, timeout)
        phases["install"] = time.monotonic() - ts
        log(f"install phase: {phases['install']:.1f}s")

        if join:
            ts = time.monotonic()
            n4 = c.add_node(4, join=c.wait_leader(timeout=30).api)
            c.wait_members([1, 2, 3, 4], timeout=timeout)
            wait_answer(n4, last, timeout)
            polls[4] = DnsPoller(n4.host, n4.dns_port, probe,
                                 interval=poll_interval).start()
            # changes while node 4 is a member, so that it also snapshots
            last = stream_changes(c, origin, 200000, threshold + 8, timeout=timeout)
            for n in c.members():
                wait_answer(n, last, timeout)
            phases["join"] = time.monotonic() - ts
            log(f"join phase: {phases['join']:.1f}s")
    finally:
        gaps = {i: p.stop() for i, p in polls.items()}
        watch.stop()
    snaps = {i: snapshot_lines(n.output()) for i, n in c.nodes.items()}
    return {"gaps": gaps, "terms": watch.terms(), "leaders": watch.leaders(),
            "candidates": watch.non_followers(), "snapshots": snaps,
            "phases": phases, "total": time.monotonic() - t0,
            "queries": {i: (p.queries, p.answers) for i, p in polls.items()},
            "gap_at": {i: (p.gap_at - t0 if p.gap_at else None) for i, p in polls.items()}}

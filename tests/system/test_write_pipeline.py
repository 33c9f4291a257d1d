"""Writes under load with several grouped Raft entries in flight
(node/runtime/proposal_batch.c): many pipelined API clients on every node,
kill -9 of the leader in the middle, and every change that was
acknowledged (answered without an error: after its entry was committed and
applied) is served by every node afterwards: the survivors, the killed
leader once restarted from its data dir, and every node after a restart of
the whole cluster. Changes answered with an error (outcome unknown) or not
answered are not counted.

The client is the control-plane bench's raw NNG REQ client
(tests/bench/control_plane.py): one request in flight per connection, many
connections. Every wait polls with a deadline; processes are started here
and stopped by PID (cluster.py)."""
import os
import selectors
import sys
import time

import pytest

from cluster import Cluster, q53
from test_cli import q53d_has_api

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import control_plane as cp  # noqa: E402

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "pipe.test"
CLIENTS = 48


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path), snapshot_threshold=256)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def value(i):
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


def pipelined(c, nodes, kill_after, more_after_kill, deadline_s=120):
    """Keeps CLIENTS single-record UPSERTs in flight over the given nodes;
    kills the leader (-9) once kill_after were acknowledged, goes on until
    more_after_kill more were. Returns (acknowledged record numbers, the
    killed node, errors seen)."""
    leader = c.wait_leader()
    sel = selectors.DefaultSelector()
    nxt = 0
    acked, errors = [], []
    killed = None
    acked_at_kill = None
    live = 0

    def submit(cl):
        nonlocal nxt
        cl.sock.setblocking(True)
        cl.pending = nxt
        cl.send(cp.req_change_batch(ZONE, cp.upsert(nxt, ZONE)))
        cl.sock.setblocking(False)
        nxt += 1

    for k in range(CLIENTS):
        cl = cp.Req(nodes[k % len(nodes)].api)
        cl.node = nodes[k % len(nodes)]
        cl.sock.setblocking(False)
        sel.register(cl.sock, selectors.EVENT_READ, cl)
        submit(cl)
        live += 1
    end = time.monotonic() + deadline_s
    while live:
        assert time.monotonic() < end, \
            f"{len(acked)} acknowledged, {live} clients still waiting after {deadline_s} s"
        for key, _ in sel.select(timeout=1):
            cl = key.data
            try:
                resp = cl.feed()
            except BlockingIOError:
                continue
            except OSError:
                # its node died: whatever it had in flight is unknown
                sel.unregister(cl.sock)
                cl.sock.close()
                live -= 1
                continue
            if resp is None:
                continue
            err, cid, _ = cp.parse_change(resp, 16)
            if err:
                errors.append(err)  # outcome unknown: not counted
            else:
                assert cid
                acked.append(cl.pending)
            if killed is None and len(acked) >= kill_after:
                killed = leader
                acked_at_kill = len(acked)
                killed.kill()
            done = acked_at_kill is not None and len(acked) >= acked_at_kill + more_after_kill
            if done or (killed is not None and cl.node is killed):
                sel.unregister(cl.sock)
                cl.sock.close()
                live -= 1
            else:
                submit(cl)
    return acked, killed, errors


def check_served(c, acked, nodes=None):
    names = [(f"b{i}.{ZONE}.", "A") for i in sorted(acked)]
    answers = c.wait_identical(names, nodes=nodes, timeout=90)
    for i, (rcode, rrs) in zip(sorted(acked), answers):
        assert rcode == "NOERROR" and any(value(i) in rr for rr in rrs), (i, rcode, rrs)


def test_leader_kill_with_entries_in_flight(cluster):
    c = cluster.start(3)
    leader = c.wait_leader()
    p = q53(leader.api, "zone", "create", ZONE)
    assert p.returncode == 0, p.stderr
    nodes = c.members()

    acked, killed, errors = pipelined(c, nodes, kill_after=300, more_after_kill=200)
    assert killed is not None
    print(f"{len(acked)} acknowledged, {len(errors)} errors, leader {killed.id} killed")
    assert len(acked) >= 500, (len(acked), errors[:5])
    assert len(set(acked)) == len(acked)
    for e in errors:  # the only errors: the leader went away
        assert e.startswith(("Unavailable", "NotLeader")), e
    survivors = [n for n in c.members() if n.id != killed.id]
    new_leader = c.wait_leader(nodes=survivors, exclude=(killed.id,))
    assert new_leader.id != killed.id
    check_served(c, acked, nodes=survivors)

    # The killed leader comes back from its data dir and serves them too.
    killed.start()
    c.wait_members(range(1, 4))
    check_served(c, acked)

    # The whole cluster restarted (clean stop): nothing acknowledged lost.
    bad = c.stop_all()
    assert not bad, bad
    for n in c.nodes.values():
        n.start()
    c.wait_members(range(1, 4))
    check_served(c, acked)

"""Raft snapshots of a large zone (issue 8, control plane v2 section 1): a
3-node cluster serving a zone of ZONE_RECORDS records, with a small
--snapshot-threshold and a stream of changes, takes snapshots on every node;
then a follower is stopped, the log moves past its compaction and the
follower is restarted, so that it installs the leader's snapshot. DNS is
queried on every node throughout and `q53 status` watched
(snapshot_watch.py).

Asserted: no election won or lost (every node reports the same term from
start to end, one leader), and no node goes longer than MAX_GAP_S without
answering (the restarted follower from its first answer on).

The election timeout is short on purpose (ELECTION_MS): a snapshot taken
on the loop (the leader then misses heartbeats) or a restore that deposes
the leader on its way out (no pre-vote) makes this fail. The 1M-record
measurement is tests/bench/run_snapshot_scale.sh."""
import os
import time

import pytest

import snapshot_watch as sw
from cluster import Cluster
from test_cli import q53d_has_api

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ORIGIN = "snap.test."
ZONE_RECORDS = int(os.environ.get("Q53_TEST_SNAPSHOT_RECORDS", "60000"))
THRESHOLD = 16
ELECTION_MS = 400
HEARTBEAT_MS = 40
MAX_GAP_S = 1.0


def write_zone(path, n):
    with open(path, "w") as f:
        f.write(f"$ORIGIN {ORIGIN}\n$TTL 3600\n"
                "@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.53\n")
        for base in range(0, n, 10000):
            f.write("".join(f"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n"
                            for i in range(base, min(n, base + 10000))))
    return f"h{n - 1}.{ORIGIN}"


def test_snapshot_take_and_install_keep_leader_and_dns(tmp_path):
    zonefile = str(tmp_path / "zone")
    last = write_zone(zonefile, ZONE_RECORDS)
    c = Cluster(str(tmp_path), snapshot_threshold=THRESHOLD,
                election_ms=ELECTION_MS, heartbeat_ms=HEARTBEAT_MS)
    timeout = 60
    t0 = time.monotonic()
    try:
        c.seeds = [(ORIGIN, zonefile)]
        first = c.add_node(1)
        c.seeds = []
        sw.wait_answer(first, last, timeout)
        for i in (2, 3):
            c.add_node(i, join=first.api)
        c.wait_members([1, 2, 3], timeout=timeout)
        for n in c.members():
            sw.wait_answer(n, last, timeout)
        term0 = {n.id: n.status()["Term"] for n in c.members()}
        print(f"loaded in {time.monotonic() - t0:.1f}s")
        res = sw.scenario(c, ORIGIN, f"h{ZONE_RECORDS // 2}.{ORIGIN}", THRESHOLD,
                          timeout, join=False, log=print, poll_interval=0.005,
                          status_interval=0.5)
        term1 = {n.id: n.status()["Term"] for n in c.members()}
        snaps = res["snapshots"]
        summary = (f"terms {res['terms']}, leaders {res['leaders']}, "
                   f"gaps {res['gaps']}, phases {res['phases']}, "
                   f"take ms {[[t[2] for t in s['take']] for s in snaps.values()]}, "
                   f"restore ms {[[r[1] for r in s['restore']] for s in snaps.values()]}")
        print(summary)
        # every node took a snapshot, one installed the leader's
        assert all(s["take"] for s in snaps.values()), summary
        assert any(len(s["restore"]) >= 1 for s in snaps.values()), summary
        # no leader change: one term, one leader, the same before and after
        assert len(set(term0.values())) == 1, (term0, summary)
        assert term1 == term0, (term0, term1, summary)
        assert len(res["leaders"]) == 1 and len(res["terms"]) == 1, summary
        # DNS answered on every node throughout
        for nid, gap in res["gaps"].items():
            assert gap < MAX_GAP_S, f"node {nid}: {gap:.3f}s without an answer; {summary}"
    finally:
        bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"

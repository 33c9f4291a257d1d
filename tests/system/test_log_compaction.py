"""A large entry (a zone import of 50,000 records, ~1.7 MB) leaves the Raft
log of every node soon after it is applied (node/runtime/log_compaction.h):
each node takes a snapshot past it, although the cluster is far below the
snapshot threshold (1024 entries). Then every node is killed (-9) and
restarted: everything acknowledged, the import and a change after it, is
served again (loaded from the snapshot and the log after it). The leader
(the node that parsed the file) compiles the import ahead, on a thread,
while raft commits it; the followers compile it after their apply.

Without the compaction no node writes a snapshot here, and the import
stays in raft's in-memory log on every node (~70 B per record at 1M).
Every wait polls with a deadline; processes are stopped by PID."""
import json
import os
import time

import pytest

from cluster import Cluster, q53

ZONE = "big.test"
N = 50_000


def wait(what, pred, timeout=60.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what} ({last})")


def snapshots(node):
    return [f for f in os.listdir(node.dir) if f.startswith("snapshot-")
            and not f.endswith(".meta")]


def answers(node, name):
    try:
        r = node.query(name, "A", timeout=1.0)
    except Exception:
        return None
    return sorted(rr.to_text() for rrs in r.answer for rr in rrs)


@pytest.fixture
def cluster3(tmp_path):
    c = Cluster(str(tmp_path))
    try:
        yield c.start(3)
    finally:
        bad = c.stop_all()
        assert not bad, f"q53d exited uncleanly: {bad}"


def test_import_leaves_the_log_and_survives_kill_9(cluster3, tmp_path):
    c = cluster3
    leader = c.wait_leader()
    zone_file = tmp_path / "big.zone"
    zone_file.write_text("".join(
        f"h{i} 60 IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n" for i in range(N)))
    p = q53(leader.api, "zone", "create", ZONE)
    assert p.returncode == 0, p.stderr
    # Past Route 53's default 10,000 record sets of a new zone: raised.
    p = q53(leader.api, "zone", "limit", ZONE, str(N + 10))
    assert p.returncode == 0, p.stderr
    p = q53(leader.api, "zone", "import", ZONE, str(zone_file), timeout_s=60,
            proc_timeout=120)
    assert p.returncode == 0, p.stderr
    last = f"h{N - 1}.{ZONE}."
    want_last = [f"10.{(N - 1) >> 16 & 255}.{(N - 1) >> 8 & 255}.{(N - 1) & 255}"]
    for n in c.members():
        wait(f"node {n.id} serves {last}", lambda: answers(n, last) == want_last)
    # The leader compiled the import on a thread while raft committed it
    # (node/runtime/import_prebuild.h); the others compiled it in full.
    ahead = [n.id for n in c.members()
             if any(line.startswith(f"q53d[{n.id}]: zone {ZONE}.: compiled ") and
                    "the import compiled ahead" in line
                    for line in n.output().splitlines())]
    assert ahead == [leader.id], (ahead, leader.output()[-3000:])
    for n in c.members():
        wait(f"a snapshot on node {n.id}", lambda: snapshots(n), timeout=20)

    # acknowledged after the compaction
    body = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"after.{ZONE}.", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": "192.0.2.77"}]}}]})
    p = q53(leader.api, "change-batch", ZONE, "-", stdin=body)
    assert p.returncode == 0, p.stderr

    for n in c.members():
        n.kill()
    for n in c.nodes.values():
        n.start()
    c.wait_members([1, 2, 3])
    for n in c.members():
        wait(f"node {n.id} serves {last} again", lambda: answers(n, last) == want_last)
        wait(f"node {n.id} serves the later change",
             lambda: answers(n, f"after.{ZONE}.") == ["192.0.2.77"])
        assert answers(n, f"h0.{ZONE}.") == ["10.0.0.0"]

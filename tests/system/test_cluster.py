"""The replicated control plane with real q53d processes on 127.0.0.x:
3 and 5 nodes, batches submitted round-robin to followers through the q53
CLI, kill -9 of the leader in the middle of a stream, restart of every
node, online add/remove (the leader too), and every change-batch validation
rule surfacing through the CLI with nothing changed.

Every wait polls with a deadline; processes are started here and stopped
by PID (cluster.py)."""
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from cluster import Cluster, q53
from test_cli import q53d_has_api

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "example.test"


def upsert(name, value, ttl=60, rtype="A"):
    return {"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl,
        "ResourceRecords": [{"Value": value}]}}


def batch(*changes, comment=None):
    b = {"Changes": list(changes)}
    if comment:
        b["Comment"] = comment
    return json.dumps(b)


@pytest.fixture
def make_cluster(tmp_path):
    made = []

    def make(n, **kw):
        c = Cluster(str(tmp_path), **kw)
        made.append(c)
        return c.start(n)

    yield make
    bad = {}
    for c in made:
        bad.update(c.stop_all())
    assert not bad, f"q53d exited uncleanly: {bad}"


def followers(c, leader):
    return [n for n in c.members() if n.id != leader.id]


def create_zone(api):
    p = q53(api, "zone", "create", ZONE)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["HostedZone"]["Id"]


def submit(api, body):
    """Returns (change id or None, CompletedProcess)."""
    p = q53(api, "change-batch", ZONE, "-", stdin=body, timeout_s=15, proc_timeout=60)
    if p.returncode == 0:
        return json.loads(p.stdout)["ChangeInfo"]["Id"], p
    return None, p


def record_name(i):
    return f"r{i}.{ZONE}."


def record_value(i):
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def stream(c, start, count, kill_at=None, workers=3):
    """Submits `count` single-record batches round-robin to followers (of
    the leader at submit time), `workers` at a time; kill -9 the leader
    after `kill_at` were acknowledged. Returns {i: change id} of the
    acknowledged ones and the killed node."""
    acked = {}
    lock = threading.Lock()
    killed = []
    state = {"leader": c.wait_leader()}

    def one(i):
        for _ in range(3):
            leader = state["leader"]
            fs = [n for n in followers(c, leader) if n.alive()] or [leader]
            node = fs[i % len(fs)]
            cid, p = submit(node.api, batch(upsert(record_name(i), record_value(i))))
            if cid:
                with lock:
                    acked[i] = cid
                    if kill_at is not None and len(acked) >= kill_at and not killed:
                        killed.append(state["leader"])
                        state["leader"].kill()
                return
            if "Unavailable" not in p.stderr and "NotLeader" not in p.stderr:
                raise AssertionError(f"batch {i}: {p.stderr}")
            # Unknown outcome or no leader: ask who leads now, maybe retry
            # (UPSERT of the same value is idempotent).
            try:
                state["leader"] = c.wait_leader(timeout=20)
            except AssertionError:
                pass

    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(one, range(start, start + count)))
    return acked, (killed[0] if killed else None)


def check_all_present(c, acked, nodes=None):
    names = [(record_name(i), "A") for i in sorted(acked)]
    answers = c.wait_identical(names, nodes=nodes, timeout=60)
    for (i, (rcode, rrs)) in zip(sorted(acked), answers):
        assert rcode == "NOERROR" and any(record_value(i) in rr for rr in rrs), \
            (i, rcode, rrs)


def last_change_insync(c, acked, api):
    last = acked[max(acked)]
    return c.wait_insync(api, last, timeout=60)


@pytest.mark.parametrize("size", [3, 5])
def test_leader_kill_restart_all(make_cluster, size):
    # 3 nodes snapshot every 16 entries: restarts load snapshot + log tail
    # and the restarted leader may need an InstallSnapshot.
    c = make_cluster(size, snapshot_threshold=16 if size == 3 else 1024)
    leader = c.wait_leader()
    create_zone(followers(c, leader)[0].api)

    acked, killed = stream(c, 0, 30 if size == 3 else 24, kill_at=10)
    assert killed is not None
    assert len(acked) >= 20, acked
    new_leader = c.wait_leader(exclude=(killed.id,))
    assert new_leader.id != killed.id

    # The killed node comes back with its data dir and catches up.
    killed.start()
    c.wait_members(range(1, size + 1))
    st = last_change_insync(c, acked, new_leader.api)
    assert st["ChangeInfo"]["Status"] == "INSYNC"
    check_all_present(c, acked)

    # Every node restarted (clean stop): state intact, same answers.
    bad = c.stop_all()
    assert not bad, bad
    for n in c.nodes.values():
        n.start()
    c.wait_members(range(1, size + 1))
    check_all_present(c, acked)
    leader = c.wait_leader()
    cid, p = submit(followers(c, leader)[0].api,
                    batch(upsert(record_name(999), record_value(999))))
    assert cid, p.stderr
    c.wait_insync(leader.api, cid)
    check_all_present(c, {**acked, 999: cid})


def test_add_and_remove_under_load(make_cluster):
    # Small snapshot threshold: the new node catches up from a snapshot.
    c = make_cluster(3, snapshot_threshold=32)
    leader = c.wait_leader()
    create_zone(leader.api)

    done = threading.Event()
    acked_bg = {}

    def load():
        i = 1000
        while not done.is_set() and i < 1400:
            a, _ = stream(c, i, 3, workers=1)
            acked_bg.update(a)
            i += 3

    t = threading.Thread(target=load)
    t.start()
    try:
        # A 4th node joins through a follower's API while writes flow.
        c.add_node(4, join=followers(c, leader)[0].api)
        c.wait_members([1, 2, 3, 4])
        # Remove the leader (an old member) through another node.
        leader = c.wait_leader()
        via = [n for n in c.members() if n.id != leader.id][0]
        p = q53(via.api, "node", "remove", leader.id, timeout_s=15)
        assert p.returncode == 0, p.stderr
        c.removed.add(leader.id)
        rest = [n for n in c.members() if n.id != leader.id]
        c.wait_leader(rest, exclude=(leader.id,))
        c.wait_members([n.id for n in rest])
    finally:
        done.set()
        t.join(timeout=120)
    assert acked_bg
    old = leader
    rc = old.stop()
    assert rc == 0, old.output()[-3000:]
    rest = c.members()
    last_change_insync(c, acked_bg, rest[0].api)
    check_all_present(c, acked_bg, nodes=rest)
    # The removed node is gone from the list everywhere.
    p = q53(rest[-1].api, "node", "list")
    assert old.id not in [n["Id"] for n in json.loads(p.stdout)["Nodes"]]
    # Removing it again: NoSuchNode, exit 1.
    p = q53(rest[0].api, "node", "remove", old.id, json_out=False)
    assert p.returncode == 1 and "NoSuchNode" in p.stderr, p.stderr


# --- validation rules ---------------------------------------------------------

def rrset(name, rtype, ttl, *values, **extra):
    rs = {"Name": name, "Type": rtype, "TTL": ttl,
          "ResourceRecords": [{"Value": v} for v in values]}
    rs.update(extra)
    return rs


def change(action, rs):
    return {"Action": action, "ResourceRecordSet": rs}


BAD_BATCHES = [
    # (what, changes, expected error code, words the message must hold)
    ("create existing", [change("CREATE", rrset("www.example.test", "A", 300, "192.0.2.1"))],
     "InvalidChangeBatch", ["change 0"]),
    ("delete wrong ttl", [change("DELETE", rrset("www.example.test", "A", 301, "192.0.2.1"))],
     "InvalidChangeBatch", ["change 0"]),
    ("delete wrong value", [change("DELETE", rrset("www.example.test", "A", 300, "192.0.2.9"))],
     "InvalidChangeBatch", ["change 0"]),
    ("delete missing", [change("DELETE", rrset("nope.example.test", "A", 300, "192.0.2.1"))],
     "InvalidChangeBatch", ["change 0"]),
    ("cname beside A", [change("CREATE", rrset("www.example.test", "CNAME", 300, "x.example.net"))],
     "InvalidChangeBatch", ["change 0"]),
    ("A beside cname", [change("CREATE", rrset("alias.example.test", "A", 300, "192.0.2.3"))],
     "InvalidChangeBatch", ["change 0"]),
    ("delete apex SOA", [change("DELETE", {"Name": "example.test", "Type": "SOA"})],
     None, []),
    ("delete apex NS", [change("DELETE", rrset("example.test", "NS", 172800,
                                               "ns1.q53.test.", "ns2.q53.test."))],
     "InvalidChangeBatch", ["change 0"]),
    ("outside zone", [change("UPSERT", rrset("www.example.org", "A", 300, "192.0.2.1"))],
     "InvalidChangeBatch", ["change 0"]),
    ("bad rdata", [change("UPSERT", rrset("ok.example.test", "A", 300, "not-an-address"))],
     "InvalidChangeBatch", ["change 0"]),
    ("second change bad", [change("UPSERT", rrset("ok.example.test", "A", 300, "192.0.2.1")),
                           change("UPSERT", rrset("bad.example.test", "MX", 300, "mail"))],
     "InvalidChangeBatch", ["change 1"]),
    ("same set twice", [change("UPSERT", rrset("d.example.test", "A", 300, "192.0.2.1")),
                        change("UPSERT", rrset("d.example.test", "A", 300, "192.0.2.2"))],
     "InvalidChangeBatch", ["change 1"]),
    ("over 1000 records", [change("UPSERT", rrset("big.example.test", "TXT", 300,
                                                  *[f'"v{i}"' for i in range(1001)]))],
     None, []),
    ("over 32000 characters", [change("UPSERT", rrset(f"t{i}.example.test", "TXT", 300,
                                                      '"' + "x" * 250 + '"' * 1)) for i in range(130)],
     None, []),
    ("latency routing, unknown region", [change("UPSERT", rrset(
        "w.example.test", "A", 60, "192.0.2.1", SetIdentifier="a", Region="eu-west-9"))],
     "InvalidChangeBatch", ["change 0", "Region 'eu-west-9' is not a known region"]),
    ("weighted beside a plain set", [change("UPSERT", rrset("www.example.test", "A", 60,
                                                            "192.0.2.1", SetIdentifier="a",
                                                            Weight=10))],
     "InvalidChangeBatch", ["change 0", "non weighted rrset exists"]),
    ("multivalue CNAME", [change("UPSERT", rrset("mv.example.test", "CNAME", 60, "x.test.",
                                                 SetIdentifier="a", MultiValueAnswer=True))],
     "InvalidChangeBatch", ["change 0", "CNAME"]),
    ("unknown health check", [change("UPSERT", rrset("h.example.test", "A", 60, "192.0.2.1",
                                                     HealthCheckId="hc-1"))],
     "NoSuchHealthCheck", ["change 0"]),
    ("unknown action", [{"Action": "MERGE", "ResourceRecordSet": rrset("u.example.test", "A", 60, "192.0.2.1")}],
     None, []),
]


def zone_state(api):
    p = q53(api, "records", "list", ZONE)
    assert p.returncode == 0, p.stderr
    sets = json.loads(p.stdout)["ResourceRecordSets"]
    z = json.loads(q53(api, "zone", "get", ZONE).stdout)["HostedZone"]
    return sets, z.get("ResourceRecordSetCount"), json.dumps(z, sort_keys=True)


def test_validation_rules(make_cluster, tmp_path):
    c = make_cluster(3)
    leader = c.wait_leader()
    via = followers(c, leader)[0]
    create_zone(via.api)
    good = batch(change("CREATE", rrset("www.example.test", "A", 300, "192.0.2.1")),
                 change("CREATE", rrset("alias.example.test", "CNAME", 300, "www.example.test")))
    cid, p = submit(via.api, good)
    assert cid, p.stderr
    c.wait_insync(via.api, cid)
    before = [zone_state(n.api) for n in c.members()]
    assert all(b == before[0] for b in before)

    failures = []
    for what, changes, code, words in BAD_BATCHES:
        body = json.dumps({"Changes": changes})
        p = q53(via.api, "change-batch", ZONE, "-", stdin=body, json_out=False)
        line = p.stderr.strip()
        ok = (p.returncode == 1 and line.startswith("q53: ") and len(line.splitlines()) == 1
              and (code is None or line.startswith(f"q53: {code}:"))
              and all(w in line for w in words))
        pj = q53(via.api, "change-batch", ZONE, "-", stdin=body)
        ok = ok and pj.returncode == 1 and json.loads(pj.stdout)["Error"]["Code"]
        if not ok:
            failures.append((what, p.returncode, line))
    assert not failures, failures

    # Malformed JSON, unknown zone, missing file.
    p = q53(via.api, "change-batch", ZONE, "-", stdin="{not json", json_out=False)
    assert p.returncode == 1 and p.stderr.startswith("q53: "), p.stderr
    p = q53(via.api, "change-batch", "nope.test", "-", stdin=good, json_out=False)
    assert p.returncode == 1 and p.stderr.startswith("q53: NoSuchHostedZone:"), p.stderr
    p = q53(via.api, "change-batch", ZONE, str(tmp_path / "missing.json"), json_out=False)
    assert p.returncode == 2
    # A zone holding records cannot be deleted.
    p = q53(via.api, "zone", "delete", ZONE, json_out=False)
    assert p.returncode == 1 and p.stderr.startswith("q53: HostedZoneNotEmpty:"), p.stderr
    # Nothing changed anywhere (the rejected batches went through the log:
    # a later accepted change proves every node applied past them): same
    # record sets, and the SOA serial moved by exactly the probe's one.
    cid, p = submit(via.api, batch(upsert("probe.example.test", "192.0.2.200")))
    assert cid, p.stderr
    c.wait_insync(leader.api, cid)
    after = [zone_state(n.api) for n in c.members()]

    def serial(sets):
        soa = [s for s in sets if s["Type"] == "SOA"][0]
        return int(soa["ResourceRecords"][0]["Value"].split()[2])

    def others(sets):
        return [s for s in sets if s["Type"] != "SOA" and not s["Name"].startswith("probe.")]

    for (b_sets, _, _), (a_sets, _, _) in zip(before, after):
        assert others(a_sets) == others(b_sets)
        assert serial(a_sets) == serial(b_sets) + 1

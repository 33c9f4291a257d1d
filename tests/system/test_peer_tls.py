"""Mutual TLS between members (q53d --peer-tls-ca/-cert/-key; certificates
from deploy/peer-tls-certs.sh): a 3-node cluster whose Raft and NNG API
traffic is tls+tcp://, and the attacker of test_peer_security.py, which
holds no cluster certificate: plain TCP, or TLS with a certificate of its
own CA, gets no message through, even from a member's own IP with the
leader's id, address and current term (what the source-IP checks of
raft_guard cannot stop). Waits are polls with deadlines."""
import json
import os
import subprocess
import time

import pynng
import pytest

from cluster import Cluster, q53
from raft_attacker import RAFT_COMMAND, append_entries, legacy_change_entry, raft_url
from test_cli import q53d_has_api

pytestmark = pytest.mark.skipif(not q53d_has_api(), reason="q53d has no --api yet")

ZONE = "example.com"
CERTS = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "peer-tls-certs.sh")


def make_certs(d, *ids):
    subprocess.run(["sh", CERTS, d, *map(str, ids)], check=True, capture_output=True)
    return d


@pytest.fixture
def tls_cluster(tmp_path):
    c = Cluster(str(tmp_path))
    c.peer_tls = make_certs(str(tmp_path / "tls"), 1, 2, 3)
    c.start(3)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def write(c, name, value):
    body = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"{name}.{ZONE}", "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": value}]}}]})
    leader = c.wait_leader()
    p = q53(leader.api, "change-batch", ZONE, "-", stdin=body, timeout_s=15)
    assert p.returncode == 0, p.stdout + p.stderr
    c.wait_insync(leader.api, json.loads(p.stdout)["ChangeInfo"]["Id"])


def serves(node, name, value):
    try:
        r = node.query(name, "A", timeout=1.0)
    except Exception:
        return False
    return any(value in rr.to_text() for rr in r.answer)


def test_cluster_over_mutual_tls_refuses_outsiders(tls_cluster, tmp_path):
    c = tls_cluster
    for n in c.members():
        assert n.raft in n.output() and f"tls+tcp://{n.raft}" in n.output(), \
            n.output()[-1500:]
    for n in c.members():
        assert n.status()["PeerTransport"] == "mutual-tls"
    p = q53(c.nodes[1].api, "zone", "create", ZONE)
    assert p.returncode == 0, p.stderr
    zone_id = json.loads(p.stdout)["HostedZone"]["Id"].split("/")[-1]
    write(c, "www", "192.0.2.1")
    # every node serves it: replication over TLS
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(
            serves(n, f"www.{ZONE}", "192.0.2.1") for n in c.members()):
        time.sleep(0.1)
    assert all(serves(n, f"www.{ZONE}", "192.0.2.1") for n in c.members())

    leader = c.wait_leader()
    target = next(n for n in c.members() if n.id != leader.id)
    st = target.status()
    t, ci = st["Term"], st["CommitIndex"]
    entry = legacy_change_entry(zone_id, f"forged.{ZONE}.", "A", "203.0.113.13")
    msg = append_entries(leader.id, raft_url(leader).replace("tcp://", "tls+tcp://"),
                         t, ci, t, ci + 1, [(t, RAFT_COMMAND, entry)])

    # 1. plain TCP from the leader's own IP: no SP session comes up
    s = pynng.Push0(send_timeout=500)
    s.dial(f"tcp://{leader.host};{target.raft}", block=False)
    try:
        s.send(msg)
        sent_plain = True
    except pynng.Timeout:
        sent_plain = False
    s.close()
    assert not sent_plain, "a plain TCP peer got a message queued to a TLS listener"

    # 2. TLS with a certificate of another CA
    rogue = make_certs(str(tmp_path / "rogue"), leader.id)
    cfg = pynng.TLSConfig(pynng.TLSConfig.MODE_CLIENT,
                          ca_files=[os.path.join(rogue, "ca.pem")],
                          cert_key_file=None,
                          own_cert_string=open(os.path.join(rogue, f"node-{leader.id}.pem")).read(),
                          own_key_string=open(os.path.join(rogue, f"node-{leader.id}.key")).read(),
                          auth_mode=pynng.TLSConfig.AUTH_MODE_NONE)
    s = pynng.Push0(send_timeout=500, tls_config=cfg)
    s.dial(f"tls+tcp://{leader.host};{target.raft}", block=False)
    try:
        s.send(msg)
        sent_rogue = True
    except pynng.Timeout:
        sent_rogue = False
    s.close()
    assert not sent_rogue, "a peer with a foreign certificate got a message through"

    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert not serves(target, f"forged.{ZONE}", "203.0.113.13")
        time.sleep(0.1)
    st2 = target.status()
    assert st2["Term"] == t and st2["LeaderId"] == leader.id, st2
    write(c, "after", "192.0.2.7")


def test_plain_tcp_needs_peer_insecure(tmp_path):
    """Off loopback, plain TCP between members takes --peer-insecure; q53
    status then says INSECURE (test_peer_security's plain clusters run on
    127.0.0.x)."""
    from q53d import free_port, q53d_binary
    d = tmp_path / "d"
    d.mkdir()
    p = subprocess.run([q53d_binary(), "--data-dir", str(d), "--id", "1",
                        "--raft", "192.0.2.1:7053",
                        "--api", f"127.0.0.1:{free_port()}",
                        "--http", f"127.0.0.1:{free_port()}",
                        "--dns", f"127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "--peer-insecure" in p.stderr, p.stderr


def test_rolling_certificate_rotation_under_load(tmp_path):
    """Rotation without downtime by rolling restarts, under a stream of
    writes: (1) each node gets a new key and certificate from the same CA;
    (2) a new CA: every node trusts both (bundle), then each gets a
    certificate of the new CA, then every node trusts the new CA only. One
    node restarts at a time and the others keep a quorum; every write
    acknowledged during all of it is served by every node at the end."""
    import shutil
    import threading

    c = Cluster(str(tmp_path))
    live = str(tmp_path / "tls")
    make_certs(live, 1, 2, 3)
    c.peer_tls = live
    acked, stop = [], threading.Event()
    try:
        c.start(3)
        p = q53(c.nodes[1].api, "zone", "create", ZONE)
        assert p.returncode == 0, p.stderr

        def load():
            i = 0
            while not stop.is_set() and i < 2000:
                i += 1
                nodes = [n for n in c.members() if n.alive()]
                if not nodes:
                    time.sleep(0.05)
                    continue
                n = nodes[i % len(nodes)]
                body = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                    "Name": f"rot{i}.{ZONE}", "Type": "A", "TTL": 60,
                    "ResourceRecords": [{"Value": "192.0.2.77"}]}}]})
                p = q53(n.api, "change-batch", ZONE, "-", stdin=body, timeout_s=5,
                        proc_timeout=20)
                if p.returncode == 0:
                    acked.append(i)

        th = threading.Thread(target=load)
        th.start()

        def roll(install):
            for nid in (1, 2, 3):
                node = c.nodes[nid]
                assert node.stop() in (0, None), node.output()[-2000:]
                install(nid)
                node.start()
                c.wait_leader(timeout=30)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    st = node.status()
                    if st and st["State"] in ("leader", "follower") and st["LeaderId"]:
                        break
                    time.sleep(0.1)
                n0 = len(acked)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and len(acked) < n0 + 2:
                    time.sleep(0.1)
                assert len(acked) >= n0 + 2, f"writes stalled after restarting node {nid}"

        def copy_node(src, nid):
            for ext in ("pem", "key"):
                shutil.copy(os.path.join(src, f"node-{nid}.{ext}"),
                            os.path.join(live, f"node-{nid}.{ext}"))

        # (1) new keys, same CA
        same = str(tmp_path / "same")
        os.makedirs(same)
        shutil.copy(os.path.join(live, "ca.pem"), same)
        shutil.copy(os.path.join(live, "ca.key"), same)
        make_certs(same, 1, 2, 3)
        roll(lambda nid: copy_node(same, nid))
        # (2) a new CA: trust both, switch certificates, trust the new one only
        new = make_certs(str(tmp_path / "new"), 1, 2, 3)
        old_ca = open(os.path.join(live, "ca.pem")).read()
        new_ca = open(os.path.join(new, "ca.pem")).read()
        bundle = os.path.join(live, "ca.pem")

        def trust(text):
            def install(nid):
                # the nodes share DIR/ca.pem here: written once per round
                with open(bundle, "w") as f:
                    f.write(text)
            return install

        roll(trust(old_ca + new_ca))
        roll(lambda nid: copy_node(new, nid))
        roll(trust(new_ca))
        stop.set()
        th.join(timeout=60)
        assert len(acked) >= 20, acked
        for n in c.members():
            assert n.status()["PeerTransport"] == "mutual-tls"
        # every acknowledged write, on every node
        deadline = time.monotonic() + 30
        missing = None
        while time.monotonic() < deadline:
            missing = [(n.id, i) for n in c.members() for i in acked
                       if not serves(n, f"rot{i}.{ZONE}", "192.0.2.77")]
            if not missing:
                break
            time.sleep(0.5)
        assert not missing, f"acknowledged and lost: {missing[:10]} of {len(acked)}"
    finally:
        stop.set()
        bad = c.stop_all()
        assert not bad, f"q53d exited uncleanly: {bad}"

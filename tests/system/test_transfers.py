"""Outbound zone transfers: a 3-node quorum53 cluster on loopback feeds
real secondaries from Debian (Knot, NSD, BIND 9) with NOTIFY + AXFR/IXFR
signed with TSIG (HMAC-SHA256), configured through `q53 zone transfer`
(replicated through the log). After the first transfer and after every
change the secondaries serve quorum53's serial and hold exactly
quorum53's records (compared, TSIG-verified by dnspython, with an AXFR
from the leader), also across raft snapshots and a node restarted from
one. A transfer without TSIG, with a wrong key or from an address that is
not a secondary is refused (NOTAUTH / REFUSED)."""
import base64
import json
import os
import shutil
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest

from cluster import Cluster, q53
from xfr_secondaries import (BindPrimary, BindSecondary, Key, KnotPrimary, KnotSecondary,
                             NSDPrimary, NSDSecondary)

ZONE = "xfr.test."
TESTER = "127.0.0.20"  # this test's own transfers come from here
OUTSIDER = "127.0.0.99"  # not a secondary
KEYNAME = "q53-xfr-key."


def batch(*changes):
    return json.dumps({"Changes": list(changes)})


def upsert(name, rtype, values, ttl=300):
    return {"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl,
        "ResourceRecords": [{"Value": v} for v in values]}}


def delete(name, rtype, values, ttl=300):
    return {"Action": "DELETE", "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl,
        "ResourceRecords": [{"Value": v} for v in values]}}


def change(api, body):
    p = q53(api, "change-batch", ZONE, "-", stdin=body, timeout_s=15, proc_timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["ChangeInfo"]["Id"]


def keyring(key):
    return dns.tsigkeyring.from_text({key.name: (key.algorithm, key.secret)})


def axfr(host, port, key=None, source=None, rdtype="AXFR", serial=0):
    """The zone's records as a sorted list of text lines (SOA included once),
    every message's TSIG checked by dnspython when key is given."""
    kw = {}
    if key is not None:
        kw = dict(keyring=keyring(key), keyname=key.name, keyalgorithm=key.algorithm)
    if source is not None:
        kw["source"] = source
    rrs = set()
    msgs = 0
    for m in dns.query.xfr(host, ZONE, rdtype=rdtype, serial=serial, port=port,
                           timeout=10, lifetime=30, **kw):
        msgs += 1
        for rrset in m.answer:
            for rd in rrset:
                rrs.add(f"{rrset.name} {rrset.ttl} {dns.rdatatype.to_text(rrset.rdtype)} "
                        f"{rd.to_text()}")
    return sorted(rrs), msgs


def xfr_rcode(host, port, key=None, source=None):
    """The rcode a transfer request gets (raw TCP, one message)."""
    q = dns.message.make_query(ZONE, "AXFR")
    if key is not None:
        q.use_tsig(keyring(key), keyname=key.name, algorithm=key.algorithm)
    try:
        r = dns.query.tcp(q, host, port=port, timeout=5, source=source)
    except dns.tsig.PeerError as e:  # answered with a TSIG error
        return f"tsig:{type(e).__name__}"
    return dns.rcode.to_text(r.rcode())


def qserial(node):
    r = node.query(ZONE, "SOA")
    return r.answer[0][0].serial


@pytest.fixture
def cluster(tmp_path):
    for tool in ("knotd", "nsd", "named"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            pytest.skip(f"{tool} not installed")
    c = Cluster(str(tmp_path), snapshot_threshold=16)
    c.start(3)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def test_secondaries_follow_every_change(cluster):
    c = cluster
    leader = c.wait_leader()
    p = q53(leader.api, "zone", "create", ZONE)
    assert p.returncode == 0, p.stderr
    change(leader.api, batch(upsert(f"www.{ZONE}", "A", ["192.0.2.1", "192.0.2.2"]),
                             upsert(f"mail.{ZONE}", "MX", ["10 mx.example.net."]),
                             upsert(f"txt.{ZONE}", "TXT", ['"hello world"'])))
    # No transfers before they are configured.
    first = c.nodes[1]
    assert xfr_rcode(first.host, first.dns_port, source=TESTER) in ("REFUSED", "NOTAUTH")

    hosts = {"knot": "127.0.0.10", "nsd": "127.0.0.11", "bind": "127.0.0.12"}
    primaries = [(n.host, n.dns_port) for n in sorted(c.members(), key=lambda n: n.id)]
    key = Key(KEYNAME, "")  # its secret comes from the leader, below
    secondaries = [KnotSecondary(ZONE, primaries, key, hosts["knot"]),
                   NSDSecondary(ZONE, primaries, key, hosts["nsd"]),
                   BindSecondary(ZONE, primaries, key, hosts["bind"])]
    # Each secondary: where its transfers come from, and where NOTIFY goes
    # (BIND listens on 127.0.0.1 only: named binds interface addresses).
    secs = sorted({f"{s.source}:{s.port}" for s in secondaries} |
                  {f"{s.host}:{s.port}" for s in secondaries} | {f"{TESTER}:53"})
    # The secret is generated by the leader; the answer shows it.
    p = q53(leader.api, "zone", "transfer", ZONE, "--secondaries", ",".join(secs),
            "--tsig", KEYNAME)
    assert p.returncode == 0, p.stderr
    cfg = json.loads(p.stdout)
    assert len(cfg["Keys"]) == 1 and cfg["Keys"][0]["Algorithm"] == "hmac-sha256"
    key.secret = cfg["Keys"][0]["Secret"]
    assert len(base64.b64decode(key.secret)) == 32
    # Every node has it (replicated through the log).
    for n in c.members():
        deadline = time.monotonic() + 10
        while True:
            p = q53(n.api, "zone", "transfer", ZONE)
            if p.returncode == 0 and json.loads(p.stdout)["Keys"]:
                break
            assert time.monotonic() < deadline, p.stdout + p.stderr
            time.sleep(0.1)

    try:
        for s in secondaries:
            s.start()

        def check_all(tag):
            leader = c.wait_leader()
            want, _ = axfr(leader.host, leader.dns_port, key=key, source=TESTER)
            serial = qserial(leader)
            for s in secondaries:
                s.wait_serial(serial)
                got, _ = axfr(s.host, s.port)
                assert got == want, f"{tag}: {s.name} differs:\n" + "\n".join(
                    sorted(set(got) ^ set(want)))
            return want, serial

        want, serial0 = check_all("first transfer")
        assert any(" MX 10 mx.example.net." in r for r in want)

        # Refusals: no TSIG, a wrong key, not a secondary.
        n = c.nodes[2]
        assert xfr_rcode(n.host, n.dns_port, source=TESTER) == "NOTAUTH"
        bad = Key(KEYNAME, base64.b64encode(b"x" * 32).decode())
        assert xfr_rcode(n.host, n.dns_port, key=bad, source=TESTER) in (
            "NOTAUTH", "tsig:PeerBadSignature")
        assert xfr_rcode(n.host, n.dns_port, key=key, source=OUTSIDER) == "REFUSED"
        assert xfr_rcode(n.host, n.dns_port, key=key, source=TESTER) == "NOERROR"
        # IXFR over UDP (signed): the current SOA alone, "use TCP" (RFC 1995 2).
        q = dns.message.make_query(ZONE, "IXFR")
        q.authority.append(dns.rrset.from_text(ZONE, 0, "IN", "SOA", ". . 1 0 0 0 0"))
        q.use_tsig(keyring(key), keyname=key.name, algorithm=key.algorithm)
        r = dns.query.udp(q, n.host, port=n.dns_port, timeout=5, source=TESTER)
        assert r.rcode() == dns.rcode.NOERROR and r.had_tsig
        assert [rr.rdtype for rr in r.answer] == [dns.rdatatype.SOA]
        assert r.answer[0][0].serial == qserial(n)

        # Many changes (across raft snapshots: threshold 16): after each,
        # every secondary catches up by NOTIFY alone (SOA refresh 7200 s).
        for i in range(24):
            leader = c.wait_leader()
            changes = [upsert(f"h{i}.{ZONE}", "A", [f"198.51.100.{i + 1}"]),
                       upsert(f"www.{ZONE}", "A", ["192.0.2.1", f"192.0.2.{i + 3}"])]
            if i > 0:
                changes.append(delete(f"h{i - 1}.{ZONE}", "A", [f"198.51.100.{i}"]))
            if i % 5 == 4:
                changes.append(upsert(f"txt.{ZONE}", "TXT", [f'"version {i}"']))
            change(leader.api, batch(*changes))
            if i % 4 == 3:
                check_all(f"change {i}")
        want, serial = check_all("after 24 changes")
        assert serial > serial0

        # IXFR from the previous serial is incremental on a node that saw
        # the change (dnspython checks every message's TSIG).
        leader = c.wait_leader()
        prev = qserial(leader)
        change(leader.api, batch(upsert(f"ixfr.{ZONE}", "AAAA", ["2001:db8::1"])))
        deadline = time.monotonic() + 10
        while qserial(leader) == prev and time.monotonic() < deadline:
            time.sleep(0.05)
        msgs = list(dns.query.xfr(leader.host, ZONE, rdtype="IXFR", serial=prev,
                                  port=leader.dns_port, keyring=keyring(key),
                                  keyname=key.name, keyalgorithm=key.algorithm,
                                  source=TESTER, timeout=10, lifetime=30))
        answer = [rrset for m in msgs for rrset in m.answer]
        soas = [rr.serial for rrset in answer if rrset.rdtype == dns.rdatatype.SOA
                for rr in rrset]
        assert soas[:2] == [prev + 1, prev], soas  # incremental, not AXFR
        assert sum(len(r) for r in answer) < 10
        check_all("after IXFR change")

        # A node restarted from its snapshot keeps the configuration and
        # serves the same zone.
        f = [n for n in c.members() if n.id != c.wait_leader().id][0]
        f.stop()
        f.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                if qserial(f) == qserial(c.wait_leader()):
                    break
            except (dns.exception.DNSException, OSError):
                pass
            assert time.monotonic() < deadline, f.output()[-3000:]
            time.sleep(0.1)
        got, _ = axfr(f.host, f.dns_port, key=key, source=TESTER)
        want, _ = axfr(c.wait_leader().host, c.wait_leader().dns_port, key=key,
                       source=TESTER)
        assert got == want
        change(c.wait_leader().api, batch(upsert(f"last.{ZONE}", "A", ["203.0.113.9"])))
        check_all("after restart")

        # The leader stops: the new leader notifies the next change (only
        # the leader sends NOTIFY), the secondaries pull it from a live node.
        old = c.wait_leader()
        old.stop()
        new = c.wait_leader(exclude=(old.id,))
        assert new.id != old.id
        change(new.api, batch(upsert(f"failover.{ZONE}", "A", ["203.0.113.10"])))
        check_all("after a leader change")
        old.start()
        c.wait_members(range(1, 4))

        # Turning transfers off refuses them again.
        leader = c.wait_leader()
        p = q53(leader.api, "zone", "transfer", ZONE, "--off")
        assert p.returncode == 0, p.stderr
        deadline = time.monotonic() + 10
        while xfr_rcode(leader.host, leader.dns_port, key=key, source=TESTER) == "NOERROR":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        for s in secondaries:
            s.stop()


HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "zones", "example.com.zone")
SRC_ZONE = "example.com."


@pytest.fixture
def one_node(tmp_path):
    for tool in ("knotd", "nsd", "named"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            pytest.skip(f"{tool} not installed")
    c = Cluster(str(tmp_path))
    c.start(1)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def zone_rrs(host, port, key, source=None):
    """Every record of SRC_ZONE by AXFR (TSIG checked), SOA apart; owner
    names lowercase (quorum53, like Route 53, keeps names in lowercase)."""
    rrs, soa = set(), None
    for m in dns.query.xfr(host, SRC_ZONE, port=port, keyring=keyring(key),
                           keyname=key.name, keyalgorithm=key.algorithm,
                           source=source, timeout=10, lifetime=30):
        for rrset in m.answer:
            for rd in rrset:
                if rrset.rdtype == dns.rdatatype.SOA:
                    soa = rd
                    continue
                rrs.add(f"{str(rrset.name).lower()} {rrset.ttl} "
                        f"{dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}")
    return sorted(rrs), soa


@pytest.mark.parametrize("kind", ["knot", "nsd", "bind"])
def test_import_by_axfr(one_node, kind, tmp_path):
    c = one_node
    # The differential tests' zone, without its TYPE65400 record (Route 53,
    # and so the import, takes only the types it knows).
    zonefile = tmp_path / "source.zone"
    with open(SOURCE) as f:
        zonefile.write_text("".join(l for l in f if "TYPE65400" not in l))
    node = c.nodes[1]
    key = Key("migrate-key.", base64.b64encode(os.urandom(32)).decode())
    cls = {"knot": KnotPrimary, "nsd": NSDPrimary, "bind": BindPrimary}[kind]
    with cls(SRC_ZONE, str(zonefile), key) as src:
        want, src_soa = zone_rrs(src.host, src.port, key)
        assert len(want) > 50
        p = q53(node.api, "zone", "create", SRC_ZONE)
        assert p.returncode == 0, p.stderr
        tsig = f"{key.name}:{key.algorithm}:{key.secret}"
        # Without the key the current primary refuses: nothing imported.
        p = q53(node.api, "zone", "import", SRC_ZONE, "--axfr", f"{src.host}:{src.port}")
        assert p.returncode != 0
        p = q53(node.api, "zone", "import", SRC_ZONE, "--axfr",
                f"{src.host}:{src.port}", "--tsig", tsig, proc_timeout=120)
        assert p.returncode == 0, p.stderr
        change_id = json.loads(p.stdout)["ChangeInfo"]["Id"]
        c.wait_insync(node.api, change_id)
    # Compared record for record, by AXFR from quorum53 itself.
    mine = Key("q53-out.", "")
    p = q53(node.api, "zone", "transfer", SRC_ZONE, "--secondaries", TESTER,
            "--tsig", mine.name)
    assert p.returncode == 0, p.stderr
    mine.secret = json.loads(p.stdout)["Keys"][0]["Secret"]
    got, soa = zone_rrs(node.host, node.dns_port, mine, source=TESTER)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing and not extra, f"missing {missing}\nextra {extra}"
    assert soa.serial >= src_soa.serial

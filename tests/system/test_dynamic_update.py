"""RFC 2136 UPDATE with TSIG (HMAC-SHA256) against a 3-node quorum53
cluster, from BIND's `nsupdate` and Knot's `knsupdate`: each update is one
change batch through the log (every node serves it), prerequisites
(RFC 2136 2.4) are checked at apply (YXDOMAIN, NXRRSET, ... answered and
nothing changes), the key must be allowed to update (`q53 zone transfer
--allow-update`), an unsigned or wrongly signed update changes nothing."""
import base64
import json
import os
import shutil
import subprocess
import time

import pytest

from cluster import Cluster, q53

ZONE = "dyn.test."
KEY = "dyn-key."


@pytest.fixture
def cluster(tmp_path):
    for tool in ("nsupdate", "knsupdate"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    c = Cluster(str(tmp_path))
    c.start(3)
    yield c
    bad = c.stop_all()
    assert not bad, f"q53d exited uncleanly: {bad}"


def run_update(tool, node, secret, lines, key=KEY):
    script = f"server {node.host} {node.dns_port}\nzone {ZONE}\n" + \
        "".join(l + "\n" for l in lines) + "send\n"
    argv = [tool, "-y", f"hmac-sha256:{key.rstrip('.')}:{secret}"]
    return subprocess.run(argv, input=script, capture_output=True, text=True, timeout=60)


def answers(node, name, rtype):
    r = node.query(name, rtype)
    return sorted(rd.to_text() for rrset in r.answer for rd in rrset)


def wait_all(c, name, rtype, want, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        got = [answers(n, name, rtype) for n in c.members()]
        if all(g == want for g in got):
            return
        assert time.monotonic() < deadline, f"{name} {rtype}: {got}, want {want}"
        time.sleep(0.05)


@pytest.mark.parametrize("tool", ["nsupdate", "knsupdate"])
def test_update(cluster, tool):
    c = cluster
    leader = c.wait_leader()
    assert q53(leader.api, "zone", "create", ZONE).returncode == 0
    secret = base64.b64encode(os.urandom(32)).decode()
    # Transfers' keys do not update unless allowed.
    p = q53(leader.api, "zone", "transfer", ZONE, "--tsig", f"{KEY}:hmac-sha256:{secret}")
    assert p.returncode != 0  # a key for nothing: refused
    p = q53(leader.api, "zone", "transfer", ZONE, "--tsig", f"{KEY}:hmac-sha256:{secret}",
            "--allow-update")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["AllowUpdate"] is True
    time.sleep(0.3)

    p = run_update(tool, leader, secret, [f"prereq nxdomain www.{ZONE}",
                                          f"update add www.{ZONE} 300 A 192.0.2.1",
                                          f"update add www.{ZONE} 300 A 192.0.2.2",
                                          f'update add txt.{ZONE} 60 TXT "hello world"'])
    assert p.returncode == 0, p.stdout + p.stderr
    wait_all(c, f"www.{ZONE}", "A", ["192.0.2.1", "192.0.2.2"])
    wait_all(c, f"txt.{ZONE}", "TXT", ['"hello world"'])

    # A prerequisite that fails: YXDOMAIN, nothing changes.
    p = run_update(tool, leader, secret, [f"prereq nxdomain www.{ZONE}",
                                          f"update add new.{ZONE} 300 A 192.0.2.9"])
    assert p.returncode != 0 and "YXDOMAIN" in (p.stdout + p.stderr).upper(), p.stdout + p.stderr
    assert answers(leader, f"new.{ZONE}", "A") == []
    # Value-dependent prerequisite and delete of one record.
    p = run_update(tool, leader, secret, [f"prereq yxrrset www.{ZONE} A 192.0.2.1",
                                          f"update delete www.{ZONE} A 192.0.2.1"])
    assert p.returncode != 0  # the set holds two records, not exactly this one
    p = run_update(tool, leader, secret, [f"prereq yxrrset www.{ZONE} A",
                                          f"update delete www.{ZONE} A 192.0.2.1"])
    assert p.returncode == 0, p.stdout + p.stderr
    wait_all(c, f"www.{ZONE}", "A", ["192.0.2.2"])
    # Delete a whole name.
    p = run_update(tool, leader, secret, [f"update delete txt.{ZONE}"])
    assert p.returncode == 0, p.stdout + p.stderr
    wait_all(c, f"txt.{ZONE}", "TXT", [])
    # A follower does not take updates (send them to the leader).
    f = [n for n in c.members() if n.id != leader.id][0]
    p = run_update(tool, f, secret, [f"update add follower.{ZONE} 300 A 192.0.2.7"])
    assert p.returncode != 0 and "REFUSED" in (p.stdout + p.stderr).upper()
    # A wrong key changes nothing.
    bad = base64.b64encode(os.urandom(32)).decode()
    p = run_update(tool, leader, bad, [f"update add evil.{ZONE} 300 A 192.0.2.66"])
    assert p.returncode != 0
    assert answers(leader, f"evil.{ZONE}", "A") == []
    # The changes are in the audit (one change each, through the log).
    p = q53(leader.api, "audit", "--zone", ZONE)
    assert p.returncode == 0, p.stderr
    assert "RFC 2136" in p.stdout

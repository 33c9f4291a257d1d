"""A first-boot --zone seed survives a crash between CreateHostedZone and
ImportZone: with Q53_TEST_SEED_KILL_AFTER_CREATE=1 q53d kills itself
(SIGKILL) once the create is committed; restarted with the same command
line it imports the file (node/runtime/zone_seed.h), once: a later restart
or a changed zone is left alone."""
import json
import os
import signal
import subprocess
import tempfile
import time

import cluster as clu

ZONE_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "deploy", "demo", "example.com.zone")
BATCH = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
    "Name": "added.example.com.", "Type": "A", "TTL": 60,
    "ResourceRecords": [{"Value": "192.0.2.99"}]}}]})


def start(node, env=None):
    log = open(os.path.join(node.cluster.root, f"q53d-{len(node.logs)}.log"), "wb")
    node.logs.append(log.name)
    node.proc = subprocess.Popen(node.args(), stdout=log, stderr=subprocess.STDOUT,
                                 env=dict(os.environ, **(env or {})))
    log.close()


def wait(what, pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def zones(node):
    p = clu.q53(node.api, "zone", "list", timeout_s=2, proc_timeout=10)
    return json.loads(p.stdout)["HostedZones"] if p.returncode == 0 else None


def www(node):
    try:
        r = node.query("www.example.com.", "A", timeout=1.0)
    except Exception:
        return None
    return sorted(rr.to_text() for rrs in r.answer for rr in rrs)


def test_seed_survives_kill_between_create_and_import():
    with tempfile.TemporaryDirectory(prefix="q53-seed-") as root:
        c = clu.Cluster(root, seeds=[("example.com", ZONE_FILE)])
        node = clu.Node(c, 1)
        c.nodes[1] = node
        try:
            start(node, {"Q53_TEST_SEED_KILL_AFTER_CREATE": "1"})
            rc = node.proc.wait(timeout=60)
            assert rc == -signal.SIGKILL, node.output()[-3000:]
            assert "killed before the import" in node.output()

            start(node)  # same command line, no hook
            assert wait("the seeded records", lambda: www(node)) == ["192.0.2.10", "192.0.2.11"], \
                node.output()[-3000:]
            listed = zones(node)
            assert [z["Name"] for z in listed] == ["example.com."], listed
            assert "seeded zone example.com" in node.output()

            # Changed after the import: a restart imports nothing again.
            p = clu.q53(node.api, "change-batch", "example.com", "-", stdin=BATCH)
            assert p.returncode == 0, p.stderr
            assert node.stop() == 0
            start(node)
            wait("the node answers", lambda: www(node))
            assert zones(node) is not None and len(zones(node)) == 1
            r = node.query("added.example.com.", "A")
            assert any("192.0.2.99" in rr.to_text() for rrs in r.answer for rr in rrs), r
            assert node.output().count("seeded zone example.com") == 1, node.output()[-3000:]
        finally:
            c.stop_all()

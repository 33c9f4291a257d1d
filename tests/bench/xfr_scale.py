#!/usr/bin/env python3
"""Outbound transfer cost at scale: a 1-node quorum53 cluster (the release
q53d given by $Q53D) holding a zone of N A record sets (imported as one
change), configured for transfers to 127.0.0.20 with a TSIG key; then a
TSIG-signed AXFR by kdig (wall time, messages, bytes), the node's packing
time for it (its log line), one change and an IXFR from the previous
serial (incremental: its size and time), and a Knot secondary's first
pull of the zone. Bounded: one run per size.

    Q53D=build-rel/q53d python3 tests/bench/xfr_scale.py 10000 100000
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
from cluster import Cluster, q53  # noqa: E402
from xfr_secondaries import Key, KnotSecondary  # noqa: E402

ZONE = "scale.test."
SRC = "127.0.0.20"


def kdig(node, key, qtype, serial=None):
    q = f"{qtype}={serial}" if serial is not None else qtype
    t0 = time.monotonic()
    p = subprocess.run(["kdig", "-b", SRC, "-p", str(node.dns_port), "-y",
                        f"hmac-sha256:{key.name}:{key.secret}", f"@{node.host}",
                        "-t", q, ZONE, "+noall", "+stats"],
                       capture_output=True, text=True, timeout=300)
    dt = time.monotonic() - t0
    m = re.search(r"Received (\d+) B \((\d+) messages, (\d+) records\)", p.stdout)
    if not m:
        raise RuntimeError(p.stdout + p.stderr)
    return dt, int(m.group(1)), int(m.group(2)), int(m.group(3))


def run(n):
    with tempfile.TemporaryDirectory(prefix="q53-xfr-bench-") as root:
        c = Cluster(root)
        c.start(1)
        node = c.nodes[1]
        try:
            assert q53(node.api, "zone", "create", ZONE).returncode == 0
            zf = os.path.join(root, "zone.txt")
            with open(zf, "w") as f:
                for i in range(n):
                    f.write(f"h{i} 300 IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n")
            p = q53(node.api, "zone", "import", ZONE, zf, timeout_s=120, proc_timeout=300)
            assert p.returncode == 0, p.stderr
            p = q53(node.api, "zone", "transfer", ZONE, "--secondaries", f"{SRC},127.0.0.10",
                    "--tsig", "bench-key")
            assert p.returncode == 0, p.stderr
            key = Key("bench-key.", json.loads(p.stdout)["Keys"][0]["Secret"])
            dt, size, msgs, recs = kdig(node, key, "AXFR")
            log = node.output()
            packed = re.findall(r"AXFR of scale.test.* packed in ([0-9.]+) ms", log)
            print(f"N={n}: AXFR {recs} records, {msgs} messages, {size} B in {dt * 1000:.0f} ms "
                  f"(kdig wall), packed on the loop in {packed[-1]} ms")
            serial = int(json.loads(q53(node.api, "zone", "transfer", ZONE).stdout)["Serial"])
            body = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": f"h1.{ZONE}", "Type": "A", "TTL": 300,
                "ResourceRecords": [{"Value": "192.0.2.1"}]}}]})
            assert q53(node.api, "change-batch", ZONE, "-", stdin=body).returncode == 0
            time.sleep(0.5)
            dt, size, msgs, recs = kdig(node, key, "IXFR", serial)
            print(f"N={n}: IXFR from {serial}: {recs} records, {size} B in {dt * 1000:.0f} ms")
            with KnotSecondary(ZONE, [(node.host, node.dns_port)], key, "127.0.0.10") as s:
                t0 = time.monotonic()
                s.wait_serial(serial + 1, timeout=300)
                print(f"N={n}: Knot secondary's first AXFR + load: "
                      f"{(time.monotonic() - t0) * 1000:.0f} ms")
        finally:
            c.stop_all()


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["10000"]:
        run(int(arg))

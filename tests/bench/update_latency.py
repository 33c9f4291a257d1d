#!/usr/bin/env python3
"""RFC 2136 UPDATE latency: a 3-node quorum53 cluster (the q53d of $Q53D),
a zone whose TSIG key may update it, and 50 sequential `knsupdate` adds
at the leader, each answered after its commit (so: process start of
knsupdate + TSIG + raft commit on a majority + answer). Bounded: 50 runs.

    Q53D=build-rel/q53d Q53=build-rel/q53 python3 tests/bench/update_latency.py
"""
import base64
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
from cluster import Cluster, q53  # noqa: E402

ZONE = "bench.test."
RUNS = 50


def main():
    with tempfile.TemporaryDirectory(prefix="q53-update-bench-") as root:
        c = Cluster(root)
        c.start(3)
        try:
            leader = c.wait_leader()
            assert q53(leader.api, "zone", "create", ZONE).returncode == 0
            secret = base64.b64encode(os.urandom(32)).decode()
            p = q53(leader.api, "zone", "transfer", ZONE, "--tsig",
                    f"k.:hmac-sha256:{secret}", "--allow-update")
            assert p.returncode == 0, p.stderr
            time.sleep(0.5)  # every node has the key (not timed)
            times = []
            for i in range(RUNS):
                script = (f"server {leader.host} {leader.dns_port}\nzone {ZONE}\n"
                          f"update add h{i}.{ZONE} 300 A 192.0.2.{i % 250 + 1}\nsend\n")
                t0 = time.monotonic()
                r = subprocess.run(["knsupdate", "-y", f"hmac-sha256:k:{secret}"],
                                   input=script, capture_output=True, text=True, timeout=30)
                times.append(time.monotonic() - t0)
                assert r.returncode == 0, r.stdout + r.stderr
            times.sort()
            print(f"knsupdate add, 3 nodes, {RUNS} runs: median {times[RUNS // 2] * 1000:.1f} ms, "
                  f"p90 {times[RUNS * 9 // 10] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")
        finally:
            c.stop_all()


if __name__ == "__main__":
    main()

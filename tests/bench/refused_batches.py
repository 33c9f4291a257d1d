#!/usr/bin/env python3
"""Six refused change batches of 1 to 60 MiB (one Name that long: the
shape of issue 11's finding) sent to the leader of a 3-node cluster; each
node's CommitIndex, RSS (MiB) and data directory size (MB) before and
after. Usage: Q53D=build-rel/q53d Q53=build-rel/q53 tests/bench/refused_batches.py
(docs/BENCHMARKS.md). Processes started here, stopped by PID."""
import sys, os, json, tempfile, time, subprocess
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from cluster import Cluster, q53
ZONE="example.test"
def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])//1024
def du(d):
    return int(subprocess.run(["du","-sm",d],capture_output=True,text=True).stdout.split()[0])
d = tempfile.mkdtemp()
c = Cluster(d).start(3)
try:
    leader = c.wait_leader()
    q53(leader.api, "zone", "create", ZONE)
    time.sleep(1)  # settle: a measurement, not a synchronisation
    def state():
        return {n.id: (n.status()["CommitIndex"], rss(n.proc.pid), du(n.dir)) for n in c.members()}
    before = state(); print("before", before)
    for mb in (1, 2, 4, 8, 32, 60):
        # a valid-looking batch whose one Name is mb MiB (the finding's shape)
        body = json.dumps({"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"a"*(mb<<20)+"."+ZONE,"Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}]}}]})
        t0=time.monotonic()
        p = q53(leader.api, "change-batch", ZONE, "-", stdin=body, timeout_s=60, proc_timeout=120)
        print(mb, "MiB rc", p.returncode, round(time.monotonic()-t0,2), "s", p.stderr.strip()[:120])
    time.sleep(2)
    after = state(); print("after", after)
finally:
    c.stop_all()

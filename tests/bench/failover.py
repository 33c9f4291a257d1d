#!/usr/bin/env python3
"""Failover benchmark: a real q53d cluster (3 nodes on 127.0.0.x) serving a
failover pair whose PRIMARY has an HTTP health check (RequestInterval 1 s,
FailureThreshold 2) on an endpoint owned by this script
(tests/system/health_endpoints.py).

Each run: wait a random part of an interval (so the kill lands at any
probe phase), kill the primary's endpoint (its port then refuses), poll
every node's DNS every ~20 ms and take the time until the LAST node answers
the secondary (and the first); bring the endpoint back, take the time until
every node answers the primary again, and wait until every node has voted
healthy again before the next run. Reports p50 / p99 / max over the runs,
and the probe requests per second the endpoint receives from the whole
cluster while healthy.

Usage: failover.py [--q53d PATH] [--nodes 3] [--runs 25] [--interval 1]
                   [--threshold 2]
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))

ZONE = "failover.test"
NAME = f"www.{ZONE}."
PRIMARY, SECONDARY = "192.0.2.51", "192.0.2.52"
POLL_S = 0.02


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--q53d", default=os.environ.get("Q53D"))
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--threshold", type=int, default=2)
    ap.add_argument("--rate-seconds", type=float, default=10.0)
    args = ap.parse_args()
    if args.q53d:
        os.environ["Q53D"] = os.path.abspath(args.q53d)
    # q53d's own Raft defaults, not the tests' shorter ones.
    os.environ.setdefault("Q53_TEST_ELECTION_MS", "1000")
    os.environ.setdefault("Q53_TEST_HEARTBEAT_MS", "100")

    import dns.message
    import dns.query

    from cluster import Cluster, q53
    from health_endpoints import HTTPEndpoint

    def ok(p):
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else None

    def answer(node):
        q = dns.message.make_query(NAME, "A")
        try:
            r = dns.query.udp(q, node.host, port=node.dns_port, timeout=0.5)
        except Exception:
            return None
        vals = [rr.address for rrset in r.answer for rr in rrset]
        return vals[0] if len(vals) == 1 else None

    def wait_all(nodes, want, limit):
        """(first, last) seconds until every node answers want."""
        t0 = time.monotonic()
        switched = {}
        while len(switched) < len(nodes):
            now = time.monotonic()
            if now - t0 > limit:
                raise RuntimeError(f"not every node answered {want} within {limit}s")
            for n in nodes:
                if n.id not in switched and answer(n) == want:
                    switched[n.id] = time.monotonic() - t0
            time.sleep(POLL_S)
        return min(switched.values()), max(switched.values())

    def wait_votes(c, hid, healthy_votes, limit=30):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            p = q53(c.members()[0].api, "health", "status", hid, timeout_s=3)
            if p.returncode == 0:
                st = json.loads(p.stdout)
                if st["HealthyVotes"] == healthy_votes and st["Reporting"] == len(c.members()):
                    return st
            time.sleep(0.05)
        raise RuntimeError("votes did not settle")

    root = tempfile.mkdtemp(prefix="q53-failover-")
    ep = HTTPEndpoint("127.0.0.60").start()
    c = Cluster(root)
    try:
        c.start(args.nodes)
        api = c.members()[-1].api
        cfg = {"IPAddress": ep.host, "Port": ep.port, "Type": "HTTP",
               "ResourcePath": "/health", "RequestInterval": args.interval,
               "FailureThreshold": args.threshold}
        hid = ok(q53(api, "health", "create", "-", stdin=json.dumps(cfg)))["HealthCheck"]["Id"]
        ok(q53(api, "zone", "create", ZONE))
        batch = {"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": NAME, "Type": "A", "TTL": 5, "SetIdentifier": "p",
                "Failover": "PRIMARY", "HealthCheckId": hid,
                "ResourceRecords": [{"Value": PRIMARY}]}},
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": NAME, "Type": "A", "TTL": 5, "SetIdentifier": "s",
                "Failover": "SECONDARY", "ResourceRecords": [{"Value": SECONDARY}]}}]}
        cid = ok(q53(api, "change-batch", ZONE, "-", stdin=json.dumps(batch)))["ChangeInfo"]["Id"]
        c.wait_insync(api, cid)
        nodes = c.members()
        wait_votes(c, hid, len(nodes))
        wait_all(nodes, PRIMARY, 30)

        # Probe load while healthy.
        ep.clear_hits()
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.rate_seconds:
            time.sleep(0.1)
        hits = ep.hits()
        rate = len(hits) / args.rate_seconds
        per_src = {}
        for _t, src, _h in hits:
            per_src[src] = per_src.get(src, 0) + 1

        fail, fail_first, back = [], [], []
        for run in range(args.runs):
            # Land the kill at a random probe phase (answers keep being
            # checked meanwhile).
            until = time.monotonic() + random.uniform(0, args.interval)
            while time.monotonic() < until:
                time.sleep(POLL_S)
            ep.stop()
            first, last = wait_all(nodes, SECONDARY, 30)
            fail.append(last)
            fail_first.append(first)
            ep.start()
            _f, last = wait_all(nodes, PRIMARY, 30)
            back.append(last)
            wait_votes(c, hid, len(nodes))
            print(f"run {run + 1:2d}: failover first {first:.3f}s last {fail[-1]:.3f}s, "
                  f"recovery last {last:.3f}s", file=sys.stderr)
    finally:
        ep.stop()
        bad = c.stop_all()
        if bad:
            print(f"unclean exits: {bad}", file=sys.stderr)

    print(f"\n### Failover ({args.nodes} nodes, RequestInterval {args.interval} s, "
          f"FailureThreshold {args.threshold}, {args.runs} runs, DNS polled every "
          f"{int(POLL_S * 1000)} ms)\n")
    print("| measure | p50 | p99 | max |")
    print("|---|---:|---:|---:|")
    for label, xs in (("endpoint killed -> first node answers secondary", fail_first),
                      ("endpoint killed -> LAST node answers secondary", fail),
                      ("endpoint back -> last node answers primary", back)):
        print(f"| {label} | {pct(xs, 50):.2f} s | {pct(xs, 99):.2f} s | {max(xs):.2f} s |")
    print()
    print("| probe load on the endpoint (whole cluster, healthy) | value |")
    print("|---|---:|")
    print(f"| requests per second | {rate:.2f} |")
    for src in sorted(per_src):
        print(f"| from {src} | {per_src[src] / args.rate_seconds:.2f} /s |")
    goal = "met" if pct(fail, 99) <= 3.0 else "NOT met"
    print(f"\nGoal p99 <= 3 s: {goal} (p99 {pct(fail, 99):.2f} s).")


if __name__ == "__main__":
    main()

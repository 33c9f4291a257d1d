#!/usr/bin/env python3
"""Cost of response rate limiting on the query path (issue 11): the same
zone and query mix (tests/bench/gen_zone.py) against q53d with RRL off
(--rrl-rate 0), RRL on with a rate no bucket reaches (--rrl-rate 1000000:
every answer classified, hashed and counted in its bucket, none limited),
and RRL with the defaults (rate 20: dnsperf from 127.0.0.1 empties the
buckets of its busiest names, and the loopback whitelist passes them).

  UDP q/s   dnsperf, one server start per configuration (1 DNS worker),
            all pinned to CPU 0 and dnsperf to CPU 1, interleaved rounds
            (off, on, defaults, off, ...); x off: the median over rounds of
            each round's ratio to that round's off run.
  Ir/q      callgrind, (Ir[N] - Ir[0]) / N per configuration.

Goal: RRL on >= 0.95x off in q/s. Loopback only; every load is bounded in
count and time. Entry point: tests/bench/run_rrl.sh.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import gen_zone  # noqa: E402
import servers  # noqa: E402

ORIGIN = "bench.example."
CONFIGS = {
    "off": ["--rrl-rate", "0"],
    "on": ["--rrl-rate", "1000000"],
    "defaults": [],
}


class Q53dRRL(servers.Q53d):
    def __init__(self, *a, extra=(), label="q53d", **kw):
        super().__init__(*a, **kw)
        self.extra = list(extra)
        self.name = label

    def argv(self):
        return super().argv() + self.extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--q53d", default=os.environ.get("Q53D", "build/release/q53d"))
    ap.add_argument("--names", type=int, default=10000)
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=4, help="per dnsperf run")
    ap.add_argument("--callgrind-queries", type=int, default=20000, help="0: skip")
    ap.add_argument("--callgrind-rate", type=int, default=2000)
    ap.add_argument("--smoke", action="store_true", help="tiny run for CI (< 60 s)")
    ap.add_argument("--report", help="also write the markdown table here")
    a = ap.parse_args()
    if a.smoke:
        a.names, a.queries, a.rounds, a.seconds, a.callgrind_queries = 500, 500, 1, 1, 0
    binary = os.path.abspath(a.q53d)
    if not os.access(binary, os.X_OK):
        bench.log(f"rrl bench: no q53d at {binary}")
        return 1
    work = tempfile.mkdtemp(prefix="q53-rrl-bench-")
    started = time.time()
    srvs = {}
    try:
        origin, zone, queries = gen_zone.gen(ORIGIN, a.names, a.queries)
        zonefile = os.path.join(work, "bench.example.zone")
        qfile = os.path.join(work, "queries.txt")
        with open(zonefile, "w") as f:
            f.write(zone)
        with open(qfile, "w") as f:
            f.write(queries)
        for k, extra in CONFIGS.items():
            d = os.path.join(work, k)
            os.makedirs(d)
            srvs[k] = Q53dRRL(d, origin, zonefile, binary=binary, extra=extra, label=f"q53d-{k}")
            srvs[k].start(prefix=["taskset", "-c", bench.SERVER_CPU])
            bench.pin(srvs[k].pids(), bench.SERVER_CPU)
            bench.dnsperf(srvs[k], qfile, 1, limit=5)  # warm-up
        qps = {k: [] for k in CONFIGS}
        for _ in range(a.rounds):
            for k in CONFIGS:
                r = bench.dnsperf(srvs[k], qfile, 1000000, limit=a.seconds)
                qps[k].append(r["qps"])
                bench.log(f"  {k}: {r['qps']:,.0f} q/s, lost {int(r['lost'] or 0)}, "
                          f"rcodes {r['rcodes']}")
        logs = {}
        for k, s in srvs.items():
            s.stop()
            logs[k] = s.output()
        srvs = {}
        ir = {}
        if a.callgrind_queries:
            for k, extra in CONFIGS.items():
                d = os.path.join(work, f"cg-{k}")
                os.makedirs(d)
                s = Q53dRRL(d, origin, zonefile, binary=binary, extra=extra, label=f"q53d-{k}")
                res, _ = bench.run_callgrind(s, qfile, [0, a.callgrind_queries],
                                             a.callgrind_rate, d)
                ir[k] = (res[a.callgrind_queries][0] - res[0][0]) / res[a.callgrind_queries][1]
        ratio = {k: statistics.median(q / b for q, b in zip(qps[k], qps["off"])) for k in CONFIGS}
        limited = {k: next((l for l in logs[k].splitlines() if "responses limited" in l), "")
                   for k in CONFIGS}
        lines = [f"Response rate limiting on the query path "
                 f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}; one q53d per "
                 f"configuration, 1 DNS worker, zone of {a.names:,} names, {a.queries:,} query "
                 f"lines, {a.rounds} interleaved dnsperf rounds of {a.seconds} s"
                 + (f", callgrind {a.callgrind_queries:,} queries at {a.callgrind_rate}/s"
                    if ir else "") + "):", "",
                 "| RRL | flags | UDP q/s (median) | x off (paired) | Ir/query | x off |",
                 "|---|---|---:|---:|---:|---:|"]
        for k, extra in CONFIGS.items():
            row = (f"| {k} | `{' '.join(extra) or '(defaults)'}` | {statistics.median(qps[k]):,.0f} "
                   f"| {ratio[k]:.3f} |")
            row += (f" {ir[k]:,.0f} | {ir[k] / ir['off']:.3f} |" if ir else " - | - |")
            lines.append(row)
        lines.append("")
        for k in CONFIGS:
            if limited[k]:
                lines.append(f"- {k}: `{limited[k].strip()}`")
        text = "\n".join(lines) + "\n"
        print(text)
        if a.report:
            with open(a.report, "w") as f:
                f.write(text)
        if ratio["on"] < 0.95:
            bench.log(f"rrl bench: RRL on is {ratio['on']:.3f}x off (goal >= 0.95x)")
        return 0
    finally:
        for s in srvs.values():
            s.stop(timeout=5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

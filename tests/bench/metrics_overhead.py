#!/usr/bin/env python3
"""What counting costs the query path: q53d (static mode, one worker) with
its DNS counters (node/dns/dns_stats.h, the default) against the same
binary with --no-dns-stats, in one run: the two servers started in turn,
dnsperf (UDP, then TCP) against each in alternation, R rounds, medians.
Query logging (--query-log-dir) is measured the same way when the binary
has it and --query-log is given.

  tests/bench/metrics_overhead.py [--q53d build-rel/q53d] [--rounds 5]
      [--udp-queries 300000] [--tcp-queries 100000] [--report FILE]

Pinned like tests/bench/run.sh (server CPU 0, dnsperf CPU 1). Traffic to
127.0.0.1 only; every load bounded in count and time."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import gen_zone  # noqa: E402
import servers  # noqa: E402


class Q53dWith(servers.Q53d):
    def __init__(self, *a, extra=(), label="", **kw):
        super().__init__(*a, **kw)
        self.extra = list(extra)
        self.name = label

    def argv(self):
        return super().argv() + [x.replace("{dir}", self.dir) for x in self.extra]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--q53d", default=os.environ.get("Q53D") or
                    os.path.join(bench.ROOT, "build-rel", "q53d"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--udp-queries", type=int, default=300000)
    ap.add_argument("--tcp-queries", type=int, default=100000)
    ap.add_argument("--names", type=int, default=10000)
    ap.add_argument("--query-log", action="store_true",
                    help="also: query logging on for the zone (needs --query-log-dir)")
    ap.add_argument("--callgrind", type=int, default=0,
                    help="also Ir/query under callgrind with N queries (0: no)")
    ap.add_argument("--report")
    a = ap.parse_args()
    a.q53d = os.path.abspath(a.q53d)
    work = tempfile.mkdtemp(prefix="q53metrics-")
    configs = [("no-stats", ["--no-dns-stats"]), ("stats", [])]
    if a.query_log:
        configs.append(("stats+querylog", ["--query-log-dir", "{dir}",
                                           "--query-log-zone", bench.ORIGIN]))
    res = {c: {"udp": [], "tcp": []} for c, _ in configs}
    current = None
    try:
        origin, zone, queries = gen_zone.gen(bench.ORIGIN, a.names, 10000)
        zf = os.path.join(work, "zone")
        qf = os.path.join(work, "queries.txt")
        open(zf, "w").write(zone)
        open(qf, "w").write(queries)
        for r in range(a.rounds):
            # every other round backwards: neither config always goes first
            for label, extra in (configs if r % 2 == 0 else configs[::-1]):
                srv = Q53dWith(work, origin, zf, binary=a.q53d, extra=extra,
                               label=f"{label}-{r + 1}")
                current = srv.start(prefix=["taskset", "-c", bench.SERVER_CPU])
                bench.dnsperf(srv, qf, 1)  # warm-up
                u = bench.dnsperf(srv, qf, max(1, a.udp_queries // 10000))
                t = bench.dnsperf(srv, qf, max(1, a.tcp_queries // 10000), mode="tcp",
                                  clients=10, outstanding=100)
                res[label]["udp"].append(u["qps"])
                res[label]["tcp"].append(t["qps"])
                print(f"round {r + 1} {label}: udp {u['qps']:.0f} q/s, tcp {t['qps']:.0f} q/s",
                      file=sys.stderr, flush=True)
                srv.stop()
                current = None
        irq = {}
        for label, extra in configs if a.callgrind else ():
            srv = Q53dWith(work, origin, zf, binary=a.q53d, extra=extra, label=f"{label}-cg")
            cg, _ = bench.run_callgrind(srv, qf, [0, a.callgrind], 1000, work)
            (ir0, _), (ir1, n1) = cg[0], cg[a.callgrind]
            irq[label] = (ir1 - ir0) / n1
    finally:
        if current is not None:
            current.stop(timeout=5)
        shutil.rmtree(work, ignore_errors=True)
    base = {m: statistics.median(res["no-stats"][m]) for m in ("udp", "tcp")}
    lines = ["| q53d | UDP q/s (median) | ratio | TCP q/s (median) | ratio |",
             "|---|---|---|---|---|"]
    for label, _ in configs:
        u = statistics.median(res[label]["udp"])
        t = statistics.median(res[label]["tcp"])
        lines.append(f"| {label} | {u:.0f} | {u / base['udp']:.3f} | {t:.0f} | "
                     f"{t / base['tcp']:.3f} |")
    if irq:
        lines.append("")
        lines.append("| q53d | Ir/query (callgrind, whole process) | ratio |")
        lines.append("|---|---|---|")
        for label, _ in configs:
            lines.append(f"| {label} | {irq[label]:.0f} | {irq[label] / irq['no-stats']:.3f} |")
    lines.append("")
    lines.append(f"{a.rounds} rounds, servers alternated; per round: "
                 f"{a.udp_queries} UDP queries, {a.tcp_queries} TCP (10 clients), "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for label, _ in configs:
        lines.append(f"- {label}: udp {['%.0f' % x for x in res[label]['udp']]}, "
                     f"tcp {['%.0f' % x for x in res[label]['tcp']]}")
    text = "\n".join(lines)
    print(text)
    if a.report:
        open(a.report, "w").write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

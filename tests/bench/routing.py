#!/usr/bin/env python3
"""Routing policies on the query path: one q53d node (cluster mode, one
DNS worker) serving a simple, a weighted, a multivalue answer and a
failover record set of one zone, measured in the same run, and (when the
Python running this has mmdb_writer: the test venv, tests/venv.sh) a
geolocation group (DE, FR, JP and the "*" default; q53d --geoip with a small
MaxMind DB written here, tests/system/geo_db.py) queried with an EDNS
client-subnet option (dnsperf -E 8:<hex>) against the simple name queried
with the same option, so that only the policy differs; with --geoprox also
a geoproximity group of three (us-east-1, eu-central-1 with a Bias, Tokyo
by coordinates) asked with the same option (the DB then gives the ECS
network Frankfurt's coordinates):

  UDP q/s   dnsperf against each name, interleaved rounds (simple, weighted,
            multivalue, failover, ...), server pinned to CPU 0 and dnsperf to
            CPU 1, median per name; x simple: the median over rounds of each
            round's ratio to that round's simple run.
  Ir/q      callgrind, one server start per (name, count) with the same time
            window: (Ir[N] - Ir[0]) / N.

Goal (issue 9): every policy >= 0.9x simple in q/s, <= 1.3x in Ir/query.
The zone is written once through the q53 CLI into a data directory that
every later start reuses. Loopback only; every load is bounded in count
and time. Entry point: tests/bench/run_routing.sh.
"""
import argparse
import json
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
import dnsmini  # noqa: E402
import servers  # noqa: E402

ORIGIN = "bench.example."
NAMES = {
    "simple": "simple.bench.example.",
    "weighted": "w.bench.example.",
    "multivalue": "mv.bench.example.",
    "failover": "fo.bench.example.",
    # An in-zone CNAME: to the simple name, and to the weighted group (the
    # chain's end picked per query, ZONE_ENTRY_CHAIN).
    "cname": "c.bench.example.",
    "cname-weighted": "cw.bench.example.",
}
# Rows of the ECS pair: kind -> (name, baseline kind).
ECS_NAMES = {"simple+ecs": "simple.bench.example.",
             "geolocation+ecs": "geo.bench.example."}
ECS_SUBNET = "10.1.7.0/24"  # DE in geo_db.NETWORKS
ECS_ANSWER = "192.0.2.41"   # the DE record below
# EDNS option 8 (RFC 7871): family 1, source prefix 24, scope 0, 10.1.7.
ECS_OPT = ["-E", "8:000118000a0107"]
GEO = [({"CountryCode": "DE"}, "192.0.2.41"), ({"CountryCode": "FR"}, "192.0.2.42"),
       ({"CountryCode": "JP"}, "192.0.2.43"), ({"CountryCode": "*"}, "192.0.2.49")]
GEOPROX_NAME = "gp.bench.example."
GEOPROX_ANSWER = "192.0.2.52"  # eu-central-1, the nearest to Frankfurt
GEOPROX = [({"AWSRegion": "us-east-1"}, "192.0.2.51"),
           ({"AWSRegion": "eu-central-1", "Bias": 10}, "192.0.2.52"),
           ({"Coordinates": {"Latitude": "35.68", "Longitude": "139.69"}}, "192.0.2.53")]
GEOPROX_COORDS = {"10.1.0.0/16": (50.11, 8.68)}  # geo_db.NETWORKS' DE


def have_geo():
    try:
        import mmdb_writer  # noqa: F401
        import netaddr  # noqa: F401
        return True
    except ImportError:
        return False


def batch(geo, geoprox=False):
    def rrs(name, value, **kw):
        return {"Name": name, "Type": "A", "TTL": 60,
                "ResourceRecords": [{"Value": value}], **kw}
    ch = [rrs(NAMES["simple"], "192.0.2.1")]
    for i, w in enumerate((70, 20, 10)):
        ch.append(rrs(NAMES["weighted"], f"192.0.2.{11 + i}",
                      SetIdentifier=f"w{i}", Weight=w))
    for i in range(4):
        ch.append(rrs(NAMES["multivalue"], f"192.0.2.{21 + i}",
                      SetIdentifier=f"m{i}", MultiValueAnswer=True))
    ch.append(rrs(NAMES["failover"], "192.0.2.31", SetIdentifier="p",
                  Failover="PRIMARY"))
    ch.append(rrs(NAMES["failover"], "192.0.2.32", SetIdentifier="s",
                  Failover="SECONDARY"))
    for kind, target in (("cname", "simple"), ("cname-weighted", "weighted")):
        ch.append({"Name": NAMES[kind], "Type": "CNAME", "TTL": 60,
                   "ResourceRecords": [{"Value": NAMES[target]}]})
    if geo:
        for i, (loc, value) in enumerate(GEO):
            ch.append(rrs(ECS_NAMES["geolocation+ecs"], value, SetIdentifier=f"g{i}",
                          GeoLocation=loc))
    if geoprox:
        for i, (loc, value) in enumerate(GEOPROX):
            ch.append(rrs(GEOPROX_NAME, value, SetIdentifier=f"p{i}",
                          GeoProximityLocation=loc))
    return json.dumps({"Changes": [{"Action": "CREATE", "ResourceRecordSet": r}
                                   for r in ch]})


class Q53Cluster(servers.Server):
    """q53d as a one-node cluster over a data directory kept between starts
    (fixed Raft and API ports: the log holds the Raft address)."""
    name = "q53d"

    def __init__(self, workdir, binary, geoip=None, geoprox=False):
        super().__init__(workdir, ORIGIN, os.devnull)
        self.binary = binary
        self.geoip = geoip
        self.geoprox = geoprox
        self.data = os.path.join(workdir, "data")
        self.raft = f"127.0.0.1:{dnsmini.free_port('127.0.0.1')}"
        self.api = f"127.0.0.1:{dnsmini.free_port('127.0.0.1')}"
        self.http = f"127.0.0.1:{dnsmini.free_port('127.0.0.1')}"

    def argv(self):
        return [self.binary, "--dns", f"{self.addr}:{self.port}", "--workers", "1",
                "--data-dir", self.data, "--id", "1", "--raft", self.raft,
                "--api", self.api, "--http", self.http, "--name", "bench",
                "--nameservers", "ns1.bench.example.,ns2.bench.example."] + (
                    ["--geoip", self.geoip] if self.geoip else [])

    def _wait_ready(self, timeout):
        if os.path.exists(self.data + ".seeded"):
            return super()._wait_ready(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"q53d exited: {self.output()[-2000:]}")
            if self.cli("status").returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"q53d API not up: {self.output()[-2000:]}")

    def cli(self, *args, stdin=None):
        q53 = os.path.join(os.path.dirname(self.binary), "q53")
        # the HTTP API, signed with the node's administrator key
        return subprocess.run([q53, "--endpoint", f"http://{self.http}", "--data",
                               self.data, "--timeout", "10", "--json", *args], capture_output=True, text=True, input=stdin,
                              timeout=60)

    def seed(self):
        """Creates the zone and its record sets (first start only)."""
        self.start(timeout=60)
        try:
            deadline = time.monotonic() + 60
            while self.cli("zone", "create", ORIGIN).returncode != 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("zone create failed")
                time.sleep(0.2)
            p = self.cli("change-batch", ORIGIN, "-", stdin=batch(bool(self.geoip), self.geoprox))
            if p.returncode != 0:
                raise RuntimeError(f"change-batch: {p.stderr}")
            cid = json.loads(p.stdout)["ChangeInfo"]["Id"]
            p = self.cli("get-change", cid, "--wait", "--wait-timeout", "30")
            if p.returncode != 0:
                raise RuntimeError(f"get-change: {p.stderr}")
            for kind, name in NAMES.items():
                r = dnsmini.query(self.addr, self.port, name, "A", timeout=2)
                if r["rcode"] != 0 or not r["answer"]:
                    raise RuntimeError(f"{kind}: no answer {r}")
            if self.geoip:
                self.check_geo()
        finally:
            self.stop()
        open(self.data + ".seeded", "w").close()

    def check_geo(self):
        """The ECS query picks the DE record (not the "*" default)."""
        out = subprocess.run(["dig", f"@{self.addr}", "-p", str(self.port), "+short",
                              "+tries=1", "+time=2", f"+subnet={ECS_SUBNET}",
                              ECS_NAMES["geolocation+ecs"], "A"],
                             capture_output=True, text=True, timeout=10).stdout.split()
        if out != [ECS_ANSWER]:
            raise RuntimeError(f"geolocation with ECS {ECS_SUBNET}: {out}, "
                               f"want {ECS_ANSWER}")
        if self.geoprox:
            out = subprocess.run(["dig", f"@{self.addr}", "-p", str(self.port), "+short",
                                  "+tries=1", "+time=2", f"+subnet={ECS_SUBNET}",
                                  GEOPROX_NAME, "A"],
                                 capture_output=True, text=True, timeout=10).stdout.split()
            if out != [GEOPROX_ANSWER]:
                raise RuntimeError(f"geoproximity with ECS {ECS_SUBNET}: {out}, "
                                   f"want {GEOPROX_ANSWER}")


def qfile(workdir, kind, name):
    path = os.path.join(workdir, f"q-{kind}.txt")
    with open(path, "w") as f:
        f.write(f"{name} A\n" * 1000)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--q53d", default=os.environ.get("Q53D", "build-rel/q53d"))
    ap.add_argument("--rounds", type=int, default=5, help="dnsperf rounds per name")
    ap.add_argument("--seconds", type=int, default=4, help="per dnsperf run")
    ap.add_argument("--callgrind-queries", type=int, default=10000, help="0: skip")
    ap.add_argument("--callgrind-rate", type=int, default=1000)
    ap.add_argument("--smoke", action="store_true", help="tiny run for CI (< 60 s)")
    ap.add_argument("--report", help="also write the markdown table here")
    ap.add_argument("--geoprox", action="store_true",
                    help="also a geoproximity row (a q53d that serves it)")
    a = ap.parse_args()
    if a.smoke:
        a.rounds, a.seconds, a.callgrind_queries = 1, 1, 0
    geo = have_geo()
    if not geo:
        bench.log(f"geolocation row skipped: {sys.executable} has no mmdb_writer/netaddr "
                  "(run through tests/bench/run_routing.sh: it uses the test venv, "
                  "tests/venv.sh)")
    # kind -> (qname, extra dnsperf args, baseline kind)
    kinds = {k: (n, (), "simple") for k, n in NAMES.items()}
    if geo:
        kinds.update({k: (n, ECS_OPT, "simple+ecs") for k, n in ECS_NAMES.items()})
        if a.geoprox:
            kinds["geoproximity+ecs"] = (GEOPROX_NAME, ECS_OPT, "simple+ecs")
    work = tempfile.mkdtemp(prefix="q53-routing-bench-")
    started = time.time()
    try:
        geoip = None
        if geo:
            sys.path.insert(0, os.path.join(HERE, "..", "system"))
            import geo_db
            nets = dict(geo_db.NETWORKS)
            if a.geoprox:
                for net, at in GEOPROX_COORDS.items():
                    nets[net] = nets[net][:3] + (at,)
            geoip = geo_db.write(os.path.join(work, "geo.mmdb"), nets)
        srv = Q53Cluster(work, os.path.abspath(a.q53d), geoip, geo and a.geoprox)
        srv.seed()
        files = {k: qfile(work, k, n) for k, (n, _, _) in kinds.items()}
        # Queries/s: interleaved rounds on one server start.
        qps = {k: [] for k in kinds}
        srv.start()
        try:
            bench.pin(srv.pids(), bench.SERVER_CPU)
            for k, (_, extra, _) in kinds.items():
                bench.dnsperf(srv, files[k], 1, limit=5, extra=extra)  # warm-up
            for _ in range(a.rounds):
                for k, (_, extra, _) in kinds.items():
                    r = bench.dnsperf(srv, files[k], 1000000, limit=a.seconds, extra=extra)
                    if r["lost"]:
                        bench.log(f"  {k}: {int(r['lost'])} lost")
                    qps[k].append(r["qps"])
                    bench.log(f"  {k}: {r['qps']:,.0f} q/s")
        finally:
            srv.stop()
        ir = {}
        if a.callgrind_queries:
            for k, (_, extra, base) in kinds.items():
                counts = [0, a.callgrind_queries] if k == "simple" else [a.callgrind_queries]
                srv.name = f"q53d-{k}"  # run_callgrind's directory names
                res, _ = bench.run_callgrind(srv, files[k], counts, a.callgrind_rate, work,
                                             extra=extra)
                srv.name = "q53d"
                if k == "simple":
                    idle = res[0][0]
                n_ir, n = res[a.callgrind_queries]
                ir[k] = (n_ir - idle) / n
        lines = [f"Routing policies on the query path ({time.strftime('%Y-%m-%d', time.gmtime(started))}, "
                 f"one q53d node, 1 DNS worker, {a.rounds} interleaved dnsperf rounds of "
                 f"{a.seconds} s per name, callgrind {a.callgrind_queries} queries at "
                 f"{a.callgrind_rate}/s" + (f"; +ecs: queries with an ECS option for "
                                            f"{ECS_SUBNET}, compared with simple+ecs"
                                            if geo else "") + "):", "",
                 "| record set | UDP q/s (median) | x baseline (paired) | Ir/query | x baseline |",
                 "|---|---|---|---|---|"]
        # Each round's ratio to its baseline's run in the same round (the
        # box's load drifts between rounds), median over the rounds.
        ratio = {k: statistics.median(q / b for q, b in zip(qps[k], qps[base]))
                 for k, (_, _, base) in kinds.items()}
        for k, (_, _, base) in kinds.items():
            q = statistics.median(qps[k])
            row = f"| {k} | {q:,.0f} | {ratio[k]:.2f} |"
            if ir:
                row += f" {ir[k]:,.0f} | {ir[k] / ir[base]:.2f} |"
            else:
                row += " - | - |"
            lines.append(row)
        text = "\n".join(lines) + "\n"
        print(text)
        if a.report:
            with open(a.report, "w") as f:
                f.write(text)
        bad = [k for k, (_, _, base) in kinds.items() if k != base and (
            ratio[k] < 0.9 or
            (ir and ir[k] > 1.3 * ir[base]))]
        if bad:
            bench.log(f"below the goal (>= 0.9x q/s, <= 1.3x Ir): {bad}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

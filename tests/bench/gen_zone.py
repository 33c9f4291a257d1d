#!/usr/bin/env python3
"""Generate the benchmark zone and the matching dnsperf query file.

Deterministic (fixed seed): the same command always writes the same files, so
every server and every run answers exactly the same questions.

Zone (default 10,000 owner names under bench.example.):
  apex SOA, NS (in-zone ns1/ns2 with A/AAAA), MX, SPF TXT;
  hosts at depth 1-3 (so there are empty non-terminals): ~62% A only,
  ~18% A+AAAA, ~3% AAAA only, ~3% 2-4 A records, ~8% CNAME to an in-zone
  host, ~3% TXT (+A), ~3% MX (+A).
Queries (default 10,000 lines, shuffled):
  45% A for a name with A, 20% AAAA for a name with AAAA, 12% NXDOMAIN
  (random label, half of them under an existing name), 10% CNAME owner
  (qtype A, the target is in the zone), 4% TXT, 3% MX, 3% NODATA
  (AAAA at an A-only name), 3% apex SOA/NS/MX.

Usage: gen_zone.py OUTDIR [--names N] [--queries N] [--origin ORIGIN]
Writes OUTDIR/ORIGIN.zone (ORIGIN without trailing dot) and OUTDIR/queries.txt.
"""
import argparse
import os
import random

WORDS = ("www mail api cdn shop app img static auth login vpn git wiki blog "
         "news docs ftp db cache edge web portal files media m admin status "
         "dev test stage mx smtp imap pop ns sip voip lb gw proxy").split()
RESERVED = {"ns1", "ns2", "mx1", "mx2"}
SITES = ("eu us ap corp lab svc int prod k8s store pay fin hr ops data").split()


def gen(origin, n_names, n_queries, seed=53):
    rnd = random.Random(seed)
    origin = origin.rstrip(".") + "."
    rel = lambda name: name  # owner names are written relative to $ORIGIN

    names = set()
    order = []
    while len(order) < n_names:
        depth = rnd.choices((1, 2, 3), weights=(55, 35, 10))[0]
        labels = [f"{rnd.choice(WORDS)}{rnd.randrange(1000)}"]
        if depth >= 2:
            labels.append(f"{rnd.choice(SITES)}{rnd.randrange(100)}")
        if depth >= 3:
            labels.append(rnd.choice(SITES))
        name = ".".join(labels)
        if name in names or name in RESERVED:
            continue
        names.add(name)
        order.append(name)

    def ip4(i):
        return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"

    def ip6(i):
        return f"2001:db8:{(i >> 16) & 0xffff:x}::{i & 0xffff:x}"

    lines = [
        f"$ORIGIN {origin}",
        "$TTL 3600",
        f"@ IN SOA ns1.{origin} hostmaster.{origin} 2024010101 7200 3600 1209600 3600",
        f"@ IN NS ns1.{origin}",
        f"@ IN NS ns2.{origin}",
        f"@ IN MX 10 mx1.{origin}",
        f"@ IN MX 20 mx2.{origin}",
        '@ IN TXT "v=spf1 mx -all"',
        "@ IN A 192.0.2.1",
        "@ IN AAAA 2001:db8::1",
        "ns1 IN A 192.0.2.53",
        "ns1 IN AAAA 2001:db8::53",
        "ns2 IN A 198.51.100.53",
        "ns2 IN AAAA 2001:db8:1::53",
        "mx1 IN A 192.0.2.25",
        "mx2 IN A 198.51.100.25",
    ]
    kinds = {}  # name -> set of types at the name
    hosts = []  # names with address records (CNAME targets)
    for i, name in enumerate(order):
        r = rnd.random()
        if r < 0.62:
            kind = "a"
        elif r < 0.80:
            kind = "a+aaaa"
        elif r < 0.83:
            kind = "aaaa"
        elif r < 0.86:
            kind = "multi-a"
        elif r < 0.94 and hosts:
            kind = "cname"
        elif r < 0.97:
            kind = "txt"
        else:
            kind = "mx"
        owner = rel(name)
        types = set()
        if kind == "cname":
            lines.append(f"{owner} IN CNAME {rnd.choice(hosts)}")
            types.add("CNAME")
        else:
            if kind != "aaaa":
                lines.append(f"{owner} IN A {ip4(i + 1)}")
                types.add("A")
            if kind == "multi-a":
                for k in range(rnd.randrange(1, 4)):
                    lines.append(f"{owner} IN A {ip4(i + 1 + (k + 1) * 65536 * 8)}")
            if kind in ("a+aaaa", "aaaa"):
                lines.append(f"{owner} IN AAAA {ip6(i + 1)}")
                types.add("AAAA")
            if kind == "txt":
                lines.append(f'{owner} IN TXT "site-verification={rnd.getrandbits(96):024x}"')
                lines.append(f'{owner} IN TXT "v=spf1 ip4:{ip4(i + 1)} -all"')
                types.add("TXT")
            if kind == "mx":
                lines.append(f"{owner} IN MX 10 mx1.{origin}")
                types.add("MX")
            hosts.append(name)
        kinds[name] = types

    def pick(typ):
        cands = [n for n in order if typ in kinds[n]]
        return cands

    with_a, with_aaaa = pick("A"), pick("AAAA")
    with_cname, with_txt, with_mx = pick("CNAME"), pick("TXT"), pick("MX")
    a_only = [n for n in order if kinds[n] == {"A"}]

    def fq(name):
        return f"{name}.{origin}"

    q = []
    mix = [(0.45, lambda: (fq(rnd.choice(with_a)), "A")),
           (0.20, lambda: (fq(rnd.choice(with_aaaa)), "AAAA")),
           (0.06, lambda: (fq(f"nx{rnd.getrandbits(32):08x}"), rnd.choice(("A", "AAAA")))),
           (0.06, lambda: (f"nope{rnd.randrange(10000)}.{fq(rnd.choice(order))}", "A")),
           (0.10, lambda: (fq(rnd.choice(with_cname)), "A")),
           (0.04, lambda: (fq(rnd.choice(with_txt)), "TXT")),
           (0.03, lambda: (fq(rnd.choice(with_mx)), "MX")),
           (0.03, lambda: (fq(rnd.choice(a_only)), "AAAA")),
           (0.03, lambda: (origin, rnd.choice(("SOA", "NS", "MX"))))]
    for frac, make in mix:
        for _ in range(round(frac * n_queries)):
            q.append(make())
    while len(q) < n_queries:
        q.append(mix[0][1]())
    q = q[:n_queries]
    rnd.shuffle(q)
    return origin, "\n".join(lines) + "\n", "".join(f"{n} {t}\n" for n, t in q)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--names", type=int, default=10000)
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--origin", default="bench.example.")
    a = ap.parse_args()
    origin, zone, queries = gen(a.origin, a.names, a.queries)
    os.makedirs(a.outdir, exist_ok=True)
    zpath = os.path.join(a.outdir, origin.rstrip(".") + ".zone")
    with open(zpath, "w") as f:
        f.write(zone)
    with open(os.path.join(a.outdir, "queries.txt"), "w") as f:
        f.write(queries)
    print(zpath)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the checked-in seed corpora of the fuzz targets.

corpus/query/: DNS queries (wire) for the names of fuzz_query's view, many
types, with and without EDNS, mixed case, plus malformed messages.
corpus/zone/:  zone-file snippets for fuzz_zone (origin example.com.):
directives, RFC 3597 forms, bad lines.
corpus/raft_msg/: protobuf RaftMessage encodings (proto/raft_msg.proto) for
fuzz_raft_msg: every body type, plus malformed ones.
corpus/change_batch/: Route 53 change batches (JSON) for fuzz_change_batch.
corpus/rdata_text/: mode byte + type + record value text or RDATA for
fuzz_rdata_text.

Deterministic: running it again gives the same files. Uses dnspython
(Debian python3-dnspython; hence /usr/bin/python3, not a pyenv one).
Usage: tests/fuzz/make_corpus.py [OUTDIR]   (default: tests/fuzz/corpus)
"""
import json
import os
import shutil
import struct
import sys

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype

NAMES = [
    "example.com.", "www.example.com.", "WwW.ExAmPlE.CoM.", "mixed.example.com.",
    "www2.example.com.", "chain1.example.com.", "long1.example.com.",
    "loop1.example.com.", "self.example.com.", "ext.example.com.",
    "cross.example.com.", "crossback.example.com.", "tonested.example.com.",
    "todeleg.example.com.", "towild.example.com.", "tocnamewild.example.com.",
    "tonx.example.com.", "tobig.example.com.", "foo.wild.example.com.",
    "a.b.wild.example.com.", "deeper.*.wild.example.com.",
    "x.deeper.*.wild.example.com.", "exists.wild.example.com.",
    "*.wild.example.com.", "q.cnamewild.example.com.", "z.a.ent2.example.com.",
    "c.ent.example.com.", "b.c.ent.example.com.", "a.b.c.ent.example.com.",
    "_sip._tcp.example.com.", "_443._tcp.www.example.com.",
    "naptr.example.com.", "unknown.example.com.", "empty.example.com.",
    "generic.example.com.", "sub.example.com.", "host.sub.example.com.",
    "ns1.sub.example.com.", "a.b.c.sub.example.com.", "outdeleg.example.com.",
    "nested.example.com.", "host.nested.example.com.",
    "any.nested.example.com.", "ns1.nested.example.com.", "big.example.com.",
    "bigtxt.example.com.", "nx.example.com.", "a.nx.example.com.",
    "other.test.", "anything.other.test.", "x.deep.other.test.",
    "pingpong.other.test.", "exact.big.test.", "big.test.",
    "a.w.big.test.", ("c" * 63 + ".") * 3 + "d" * 50 + ".w.big.test.", "example.net.",
    ".", "com.", "tolong.example.com.",
]
# routing.test.: weighted and multivalue answer choices.
NAMES += ["w.routing.test.", "mv.routing.test.", "x.wild.routing.test.",
          "cw.routing.test.", "mx.routing.test.", "routing.test."]
# alias.test.: alias records as the zone store compiles them.
NAMES += ["alias.test.", "chain.alias.test.", "cn.alias.test.",
          "lb.alias.test.", "fo.alias.test.", "wa.alias.test.",
          "www.target.test.", "lb.target.test."]

TYPES = ["A", "AAAA", "NS", "SOA", "CNAME", "MX", "TXT", "SRV", "PTR", "CAA",
         "DS", "DNSKEY", "RRSIG", "NSEC", "TLSA", "SSHFP", "NAPTR", "SVCB",
         "HTTPS", "ANY", "AXFR", "IXFR", "TYPE65534", "TYPE0", "LOC", "HINFO"]


def query(name, rdtype, qid, edns=False, payload=1232, do=False, rd=True,
          options=None, rdclass="IN"):
    if edns is False:  # dnspython turns EDNS on when payload is given
        m = dns.message.make_query(name, rdtype, rdclass, use_edns=False)
    else:
        m = dns.message.make_query(name, rdtype, rdclass, use_edns=edns,
                                   payload=payload, want_dnssec=do,
                                   options=options)
    m.id = qid
    if not rd:
        m.flags &= ~dns.flags.RD
    return m.to_wire()


def u16(v):
    return struct.pack("!H", v)


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def wname(name):
    return dns.name.from_text(name).to_wire()


OPT_1232 = b"\x00" + u16(41) + u16(1232) + b"\x00\x00\x00\x00" + u16(0)


def nasty_queries():
    www = wname("www.example.com.")
    q_a = u16(1) + u16(1)
    out = {
        "empty": b"",
        "one-byte": b"\x00",
        "short-header": header()[:11],
        "header-only": header(qd=0),
        "qd0-edns": header(qd=0, ar=1) + OPT_1232,
        "qd1-no-question": header(),
        "qd2": header(qd=2) + www + q_a + www + q_a,
        "qd65535": header(qd=0xFFFF) + www + q_a,
        "truncated-name": header() + www[:7],
        "truncated-type": header() + www + b"\x00",
        "name-no-root": header() + www[:-1],
        "label-64": header() + b"\x40" + b"a" * 64 + b"\x00" + q_a,
        "label-ext-0x40": header() + b"\x41\x00" + q_a,
        "name-256": header() + (b"\x3f" + b"a" * 63) * 4 + b"\x00" + q_a,
        "name-255": header() + (b"\x3f" + b"a" * 63) * 3 + b"\x3d" + b"a" * 61
        + b"\x00" + q_a,
        "ptr-qname-self": header() + b"\xc0\x0c" + q_a,
        "ptr-qname-loop": header() + b"\x03www\xc0\x0c" + q_a,
        "ptr-qname-forward": header() + b"\xc0\x12" + q_a + www,
        "ptr-into-header": header() + b"\xc0\x00" + q_a,
        "ptr-past-end": header() + b"\xff\xff" + q_a,
        "response-bit": header(flags=0x8180) + www + q_a,
        "tc-bit": header(flags=0x0300) + www + q_a,
        "opcode-notify": header(flags=0x2000) + www + u16(6) + u16(1),
        "opcode-update": header(flags=0x2800) + www + u16(6) + u16(1),
        "opcode-status": header(flags=0x1000) + www + q_a,
        "opcode-15": header(flags=0x7800) + www + q_a,
        "rcode-set-in-query": header(flags=0x010f) + www + q_a,
        "z-bit": header(flags=0x0140) + www + q_a,
        "ad-cd": header(flags=0x0130) + www + q_a,
        "class-ch": header() + b"\x07version\x04bind\x00" + u16(16) + u16(3),
        "class-any": header() + www + u16(1) + u16(255),
        "class-none": header() + www + u16(1) + u16(254),
        "class-zero": header() + www + u16(1) + u16(0),
        "qtype-opt": header() + www + u16(41) + u16(1),
        "qtype-tsig": header() + www + u16(250) + u16(255),
        "trailing-garbage": header() + www + q_a + b"\xde\xad\xbe\xef",
        "an-count-lie": header(an=1) + www + q_a,
        "an-record": header(an=1) + www + q_a + b"\xc0\x0c" + q_a
        + b"\x00\x00\x0e\x10\x00\x04\xc0\x00\x02\x01",
        "ar-count-lie": header(ar=3) + www + q_a + OPT_1232,
        "two-opt": header(ar=2) + www + q_a + OPT_1232 + OPT_1232,
        "opt-in-answer": header(an=1) + www + q_a + OPT_1232,
        "opt-in-authority": header(ns=1) + www + q_a + OPT_1232,
        "opt-owner-not-root": header(ar=1) + www + q_a + b"\xc0\x0c"
        + u16(41) + u16(1232) + b"\x00\x00\x00\x00" + u16(0),
        "opt-payload-0": header(ar=1) + www + q_a + b"\x00" + u16(41) + u16(0)
        + b"\x00\x00\x00\x00" + u16(0),
        "opt-payload-511": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(511) + b"\x00\x00\x00\x00" + u16(0),
        "opt-payload-65535": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(65535) + b"\x00\x00\x00\x00" + u16(0),
        "opt-version-1": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(1232) + b"\x00\x01\x00\x00" + u16(0),
        "opt-version-255-do": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(1232) + b"\x00\xff\x80\x00" + u16(0),
        "opt-rdlen-lie": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(1232) + b"\x00\x00\x00\x00" + u16(20) + b"\x00\x0a\x00\x08",
        "opt-option-len-lie": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(1232) + b"\x00\x00\x00\x00" + u16(4) + b"\x00\x0a\xff\xff",
        "opt-cookie-short": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(1232) + b"\x00\x00\x00\x00" + u16(6) + b"\x00\x0a\x00\x02\x01\x02",
        "opt-many-options": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(1232) + b"\x00\x00\x00\x00" + u16(40) + b"\x00\x0c\x00\x00" * 10,
        "opt-then-tsig": header(ar=2) + www + q_a + OPT_1232 + b"\x03key\x00"
        + u16(250) + u16(255) + b"\x00\x00\x00\x00" + u16(0),
        "big-tcp-like": header(ar=1) + www + q_a + b"\x00" + u16(41)
        + u16(1232) + b"\x00\x00\x00\x00" + u16(3000) + b"\x00\x0c"
        + u16(2996) + b"\x00" * 2996,
    }
    return out


def write_queries(outdir):
    d = os.path.join(outdir, "query")
    os.makedirs(d, exist_ok=True)
    qid = 1
    files = {}
    for name in NAMES:
        # Every name gets A plus a couple of types; a spread of flags.
        for i, t in enumerate(["A"] + TYPES[(qid % len(TYPES)):][:2]):
            edns = False if (qid % 3 == 0) else 0
            payload = [512, 1232, 4096, 65535][qid % 4]
            files["%s-%s-%s" % (name.strip(".") or "root", t,
                                "noedns" if edns is False else payload)] = \
                query(name, t, qid, edns=edns, payload=payload,
                      do=(qid % 5 == 0), rd=(qid % 2 == 0))
            qid += 1
    for t in TYPES:
        files["www-all-%s" % t] = query("www.example.com.", t, qid, edns=0)
        qid += 1
    # The large answers, asked for by their own type, each way.
    longw = ("c" * 63 + ".") * 3 + "d" * 50 + ".w.big.test."
    for name, t in [("exact.big.test.", "TXT"), ("a.w.big.test.", "TXT"),
                    (longw, "TXT"), ("bigtxt.example.com.", "TXT"),
                    ("tobig.example.com.", "TXT"), ("big.example.com.", "ANY"),
                    ("long1.example.com.", "A"), ("tolong.example.com.", "MX"),
                    ("a.mx.big.test.", "MX")]:
        for edns in (False, 0):
            files["big-%s-%s-%s" % (name[-30:].strip("."), t,
                                     "noedns" if edns is False else "edns")] = \
                query(name, t, qid, edns=edns, payload=4096)
            qid += 1
    ecs = dns.edns.ECSOption("192.0.2.0", 24)
    cookie = dns.edns.GenericOption(dns.edns.COOKIE, b"\x01" * 8)
    nsid = dns.edns.GenericOption(dns.edns.NSID, b"")
    files["www-ecs"] = query("www.example.com.", "A", qid, edns=0,
                             options=[ecs])
    # ECS on weighted / multivalue names: the pick's scope echoed; and
    # malformed ECS (FORMERR): scope set in a query, bits past the source.
    files["w-routing-ecs"] = query("w.routing.test.", "A", qid, edns=0,
                                   options=[dns.edns.ECSOption("198.51.100.0", 24)])
    files["mv-routing-ecs6"] = query("mv.routing.test.", "A", qid, edns=0,
                                     options=[dns.edns.ECSOption("2001:db8::", 48)])
    files["w-routing-ecs-scope"] = query(
        "w.routing.test.", "A", qid, edns=0,
        options=[dns.edns.GenericOption(8, b"\x00\x01\x18\x08\xc6\x33\x64")])
    files["w-routing-ecs-bits"] = query(
        "w.routing.test.", "A", qid, edns=0,
        options=[dns.edns.GenericOption(8, b"\x00\x01\x14\x00\xc6\x33\x6f")])
    # Geolocation tables, with ECS (v4, v6) and without.
    for name in ("geo.routing.test.", "geonodef.routing.test."):
        tag = name.split(".")[0]
        files[tag + "-routing-ecs"] = query(name, "A", qid, edns=0,
                                            options=[dns.edns.ECSOption("10.1.2.0", 24)])
        files[tag + "-routing-ecs6"] = query(name, "A", qid, edns=0,
                                             options=[dns.edns.ECSOption("2001:db8:1::", 56)])
        files[tag + "-routing"] = query(name, "A", qid)
    # A latency table: ECS inside a row, outside every row, IPv6, none.
    for tag, opt in (("lat-routing-ecs-row", dns.edns.ECSOption("198.51.100.0", 24)),
                     ("lat-routing-ecs-16", dns.edns.ECSOption("100.64.0.0", 16)),
                     ("lat-routing-ecs-none", dns.edns.ECSOption("203.0.113.0", 24)),
                     ("lat-routing-ecs6", dns.edns.ECSOption("2001:db8:1::", 56))):
        files[tag] = query("lat.routing.test.", "A", qid, edns=0, options=[opt])
    files["lat-routing"] = query("lat.routing.test.", "A", qid)
    # IP-based routing (ip.test.): ECS inside, across and shorter than the
    # blocks, v6, none.
    for name in ("www.ip.test.", "nodef.ip.test."):
        tag = name.split(".")[0] + "-ip"
        for addr, bits in (("10.1.2.0", 24), ("10.0.0.0", 12), ("10.1.0.0", 16),
                           ("192.0.2.0", 24), ("2001:db8:1::", 56),
                           ("2001:db8::", 20), ("0.0.0.0", 0)):
            files["%s-%s-%d" % (tag, addr.replace(":", "_"), bits)] = query(
                name, "A", qid, edns=0, options=[dns.edns.ECSOption(addr, bits)])
        files[tag] = query(name, "A", qid)
    # Geoproximity (gp.alias.test., compiled by the zone store), clients
    # placed by the unit tests' City DB: with and without coordinates,
    # IPv4 and IPv6, and none.
    for tag, addr, bits in (("gp-ecs-fr", "10.1.2.0", 24),
                            ("gp-ecs-us", "10.1.2.128", 25),
                            ("gp-ecs-nocoords", "10.2.0.0", 16),
                            ("gp-ecs6", "2001:db8:1:2::", 64),
                            ("gp-ecs-src0", "0.0.0.0", 0)):
        files[tag] = query("gp.alias.test.", "A", qid, edns=0,
                           options=[dns.edns.ECSOption(addr, bits)])
    files["gp-noecs"] = query("gp.alias.test.", "A", qid)
    files["www-cookie-nsid"] = query("www.example.com.", "A", qid + 1, edns=0,
                                     options=[cookie, nsid])
    files["www-class-ch"] = query("www.example.com.", "TXT", qid + 2,
                                  rdclass="CH")
    files.update(nasty_queries())
    for k, v in files.items():
        k = k.replace("*", "star")
        if len(k) > 80:  # a 255-byte name does not make a file name
            k = "long%d-%s" % (len(k), k[-40:])
        with open(os.path.join(d, k + ".bin"), "wb") as f:
            f.write(v)
    return len(files)


SOA = "@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n"
ZONES = {
    "minimal": SOA,
    "origin-ttl": "$ORIGIN example.com.\n$TTL 1h\n" + SOA + "www A 192.0.2.1\n",
    "relative-origin": SOA + "$ORIGIN sub\nhost A 192.0.2.1\n$ORIGIN example.com.\n",
    "foreign-origin": SOA + "$ORIGIN example.net.\nwww A 192.0.2.1\n",
    "out-of-zone": SOA + "www.example.net. A 192.0.2.1\n",
    "no-soa": "@ NS ns1\nns1 A 192.0.2.1\n",
    "two-soa": SOA + "@ SOA a b 2 3 4 5 6\n",
    "soa-not-apex": SOA + "www SOA a b 1 2 3 4 5\n",
    "multiline-soa": "@ IN SOA ns1 hostmaster (\n 1 ; serial\n 7200\n 3600\n"
    " 1209600\n 300 )\n@ NS ns1\n",
    "types": SOA + "www A 192.0.2.1\nwww AAAA 2001:db8::1\n@ MX 10 mail\n"
    "@ TXT \"a\" \"b\"\n_s._tcp SRV 1 2 3 www\n@ CAA 0 issue \"ca\"\n"
    "p PTR www\nh HINFO a b\nn NAPTR 1 1 \"U\" \"x\" \"\" .\n"
    "t TLSA 3 1 1 00112233\ns SSHFP 1 1 0011\nd DS 1 13 2 00ff\n"
    "l LOC 1 N 1 E 0m\nsv SVCB 1 . alpn=h2\nht HTTPS 0 www\n",
    "rfc3597": SOA + "u TYPE65534 \\# 4 0a000001\ne TYPE65280 \\# 0\n"
    "g CLASS1 TYPE1 \\# 4 c0000201\nbad TYPE1 \\# 3 c00002\n",
    "rfc3597-len-lie": SOA + "u TYPE65534 \\# 10 0a\n",
    "wildcards": SOA + "* A 192.0.2.1\n*.w A 192.0.2.2\nx.*.w A 192.0.2.3\n"
    "*.c CNAME www\n",
    "cname": SOA + "a CNAME b\nb CNAME a\nc CNAME c\nd CNAME www.example.net.\n"
    "a A 192.0.2.1\n",
    "cname-apex": SOA + "@ CNAME www\n",
    "delegation": SOA + "sub NS ns1.sub\nns1.sub A 192.0.2.1\n"
    "sub DS 1 13 2 00ff\nx.y.sub A 192.0.2.2\nsub A 192.0.2.9\n",
    "dname": SOA + "d DNAME example.net.\nx.d A 192.0.2.1\n",
    "ent": SOA + "a.b.c.d A 192.0.2.1\n",
    "escapes": SOA + "a\\.b A 192.0.2.1\nsp\\032 A 192.0.2.2\n\\@ A 192.0.2.3\n"
    "t TXT \"\\\"\\\\\\255\"\n",
    "long-names": SOA + ("a" * 63 + ".") * 3 + " A 192.0.2.1\n"
    + "a" * 64 + " A 192.0.2.1\n",
    "ttls": SOA + "a 0 A 192.0.2.1\nb 2147483647 A 192.0.2.1\n"
    "c 4294967295 A 192.0.2.1\nd 1w2d3h4m5s A 192.0.2.1\ne -1 A 192.0.2.1\n",
    "classes": SOA + "a CH A 192.0.2.1\nb CLASS255 A 192.0.2.1\n",
    "meta-types": SOA + "a OPT \\# 0\nb TSIG \\# 0\nc ANY \\# 0\nd AXFR \\# 0\n"
    "e TYPE0 \\# 0\nf RRSIG A 13 2 300 20300101000000 20200101000000 1 "
    "example.com. AAAA\n",
    "bad-lines": SOA + "www A 999.0.0.1\nwww AAAA ::g\n( unbalanced\n"
    "\"unterminated\n$BOGUS x\nwww IN IN A 1.2.3.4\n",
    "include": SOA + "$INCLUDE /etc/hostname\n",
    "generate": SOA + "$GENERATE 1-10 h$ A 192.0.2.$\n",
    "duplicates": SOA + "www A 192.0.2.1\nwww A 192.0.2.1\nwww 60 A 192.0.2.2\n",
    "big-rrset": SOA + "".join("big A 10.0.%d.%d\n" % (i // 250, i % 250)
                               for i in range(300)),
    "big-txt": SOA + "".join('t TXT "%s"\n' % ("%03d" % i + "x" * 252)
                             for i in range(40)),
    "nul-byte": SOA + "www A 192.0.2.1\x00garbage\n",
    "crlf": SOA.replace("\n", "\r\n") + "www A 192.0.2.1\r\n",
    "no-final-newline": SOA + "www A 192.0.2.1",
    "comments-only": "; nothing here\n;; still nothing\n",
    "empty": "",
}


def write_zones(outdir):
    d = os.path.join(outdir, "zone")
    os.makedirs(d, exist_ok=True)
    for k, v in ZONES.items():
        with open(os.path.join(d, k + ".zone"), "wb") as f:
            f.write(v.encode("latin-1"))
    return len(ZONES)


# --- protobuf, by hand (field numbers: proto/raft_msg.proto) ---
def pb_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_u(field, v):
    return pb_varint(field << 3) + pb_varint(v)


def pb_b(field, data):
    if isinstance(data, str):
        data = data.encode()
    return pb_varint(field << 3 | 2) + pb_varint(len(data)) + data


def raft_msg(body_field, body, sender=1, addr="tcp://127.0.0.1:7001"):
    return pb_u(1, sender) + pb_b(2, addr) + pb_b(body_field, body)


def entry(term, etype, data):
    return pb_b(5, pb_u(1, term) + pb_u(2, etype) + pb_b(3, data))


def server(sid, addr, role):
    return pb_b(4, pb_u(1, sid) + pb_b(2, addr) + pb_u(3, role))


RAFT_MSGS = {
    "ae-heartbeat": raft_msg(10, pb_u(1, 3) + pb_u(2, 10) + pb_u(3, 2)
                             + pb_u(4, 9)),
    "ae-entries": raft_msg(10, pb_u(1, 3) + pb_u(2, 10) + pb_u(3, 2)
                           + pb_u(4, 9) + entry(3, 1, b"cmd")
                           + entry(3, 2, b"") + entry(3, 3, b"\x00" * 37)),
    "ae-bad-entry-type": raft_msg(10, pb_u(1, 3) + entry(3, 9, b"x")),
    "ae-entry-term0": raft_msg(10, pb_u(1, 3) + entry(0, 1, b"x")),
    "aer": raft_msg(11, pb_u(1, 3) + pb_u(2, 0) + pb_u(3, 12)),
    "aer-rejected": raft_msg(11, pb_u(1, 3) + pb_u(2, 7) + pb_u(3, 12)),
    "rv": raft_msg(12, pb_u(1, 4) + pb_u(2, 2) + pb_u(3, 12) + pb_u(4, 3)
                   + pb_u(5, 1) + pb_u(6, 1)),
    "rv-candidate0": raft_msg(12, pb_u(1, 4) + pb_u(2, 0)),
    "rvr": raft_msg(13, pb_u(1, 4) + pb_u(2, 1) + pb_u(3, 1)),
    "rvr-tribool-bad": raft_msg(13, pb_u(1, 4) + pb_u(3, 7)),
    "is": raft_msg(14, pb_u(1, 5) + pb_u(2, 100) + pb_u(3, 4)
                   + server(1, "tcp://127.0.0.1:7001", 1)
                   + server(2, "tcp://127.0.0.1:7002", 1)
                   + server(3, "tcp://127.0.0.1:7003", 0)
                   + pb_u(5, 90) + pb_b(6, b"snapshot-bytes")),
    "is-dup-server": raft_msg(14, pb_u(1, 5) + server(1, "a", 1)
                              + server(1, "b", 1) + pb_b(6, b"x")),
    "is-no-conf": raft_msg(14, pb_u(1, 5) + pb_b(6, b"x")),
    "is-empty-address": raft_msg(14, pb_u(1, 5) + server(1, "", 1)),
    "tn": raft_msg(15, pb_u(1, 6) + pb_u(2, 20) + pb_u(3, 5)),
    "sender0": raft_msg(15, pb_u(1, 6), sender=0),
    "sender-addr-256": raft_msg(15, pb_u(1, 6), addr="a" * 256),
    "sender-addr-255": raft_msg(15, pb_u(1, 6), addr="a" * 255),
    "sender-addr-nul": raft_msg(15, pb_u(1, 6), addr="a\x00b"),
    "no-body": pb_u(1, 1) + pb_b(2, "x"),
    "two-bodies": raft_msg(15, pb_u(1, 6)) + pb_b(11, pb_u(1, 1)),
    "huge-varint": pb_u(1, 2**64 - 1) + pb_b(2, "x") + pb_b(15, b""),
    "len-lie": pb_u(1, 1) + pb_varint(2 << 3 | 2) + pb_varint(1000) + b"x",
    "unknown-field": raft_msg(15, pb_u(1, 6)) + pb_u(99, 1),
    "empty": b"",
}


def write_raft_msgs(outdir):
    d = os.path.join(outdir, "raft_msg")
    os.makedirs(d, exist_ok=True)
    for k, v in RAFT_MSGS.items():
        with open(os.path.join(d, k + ".pb"), "wb") as f:
            f.write(v)
    return len(RAFT_MSGS)


# --- change batches ---
def rrset(name, rtype, ttl, values, **extra):
    d = {"Name": name, "Type": rtype, "TTL": ttl,
         "ResourceRecords": [{"Value": v} for v in values]}
    d.update(extra)
    return d


def batch(*changes, comment=None):
    d = {"Changes": [{"Action": a, "ResourceRecordSet": r}
                     for a, r in changes]}
    if comment is not None:
        d["Comment"] = comment
    return json.dumps(d, indent=1).encode()


BATCHES = {
    "simple": batch(
        ("CREATE", rrset("www.example.com", "A", 300,
                         ["192.0.2.10", "192.0.2.11"])),
        ("CREATE", rrset("www.example.com.", "AAAA", 300, ["2001:db8::10"])),
        ("CREATE", rrset("example.com", "MX", 3600,
                         ["10 mail.example.com", "20 mail2.example.com"])),
        ("CREATE", rrset("example.com", "TXT", 300,
                         ['"v=spf1 -all"', '"part one" "part two"'])),
        ("CREATE", rrset("blog.example.com", "CNAME", 60,
                         ["www.example.com"])),
        ("CREATE", rrset("_sip._tcp.example.com", "SRV", 300,
                         ["10 60 5060 sip.example.com"])),
        ("CREATE", rrset("example.com", "CAA", 3600,
                         ['0 issue "ca.example.net"'])),
        comment="basic record types"),
    "upsert-delete": batch(
        ("UPSERT", rrset("a.example.com", "A", 60, ["192.0.2.1"])),
        ("DELETE", rrset("b.example.com", "TXT", 60, ['"x"']))),
    "weighted": batch(("CREATE", rrset("app.example.com", "A", 60,
                                       ["192.0.2.41"], SetIdentifier="blue",
                                       Weight=90))),
    "weighted-zero-multivalue": batch(
        ("CREATE", rrset("app.example.com", "A", 60, ["192.0.2.43"],
                         SetIdentifier="off", Weight=0)),
        ("CREATE", rrset("pool.example.com", "A", 60, ["192.0.2.61"],
                         SetIdentifier="m1", MultiValueAnswer=True,
                         HealthCheckId="hc"))),
    "geo": batch(("CREATE", rrset("g.example.com", "A", 60, ["192.0.2.1"],
                                  SetIdentifier="eu",
                                  GeoLocation={"ContinentCode": "EU"}))),
    "geoprox": batch(
        ("CREATE", rrset("gp.example.com", "A", 60, ["192.0.2.1"],
                         SetIdentifier="fra",
                         GeoProximityLocation={"AWSRegion": "eu-central-1",
                                               "Bias": 25})),
        ("CREATE", rrset("gp.example.com", "A", 60, ["192.0.2.2"],
                         SetIdentifier="dc",
                         GeoProximityLocation={"Coordinates": {
                             "Latitude": "-33.87", "Longitude": "151.2"},
                             "Bias": -99}))),
    "failover-hc": batch(("CREATE", rrset("f.example.com", "A", 60,
                                          ["192.0.2.1"], SetIdentifier="p",
                                          Failover="PRIMARY",
                                          HealthCheckId="abc"))),
    "alias": json.dumps({"Changes": [{"Action": "CREATE",
                                      "ResourceRecordSet": {
                                          "Name": "example.com", "Type": "A",
                                          "AliasTarget": {
                                              "HostedZoneId": "Z1",
                                              "DNSName": "www.example.com",
                                              "EvaluateTargetHealth": False}}}]
                         }).encode(),
    "all-types": batch(*[("CREATE", rrset("t.example.com", t, 1, [v])) for t, v in [
        ("A", "192.0.2.1"), ("AAAA", "::1"), ("CAA", '0 issue "x"'),
        ("CNAME", "x.example.com"), ("DS", "1 13 2 00ff"),
        ("HTTPS", "1 . alpn=h2"), ("MX", "0 ."),
        ("NAPTR", '1 1 "U" "E2U+sip" "" .'), ("NS", "ns.example.com"),
        ("PTR", "p.example.com"), ("SOA", "ns h 1 2 3 4 5"),
        ("SPF", '"v=spf1"'), ("SRV", "0 0 0 ."), ("SSHFP", "1 1 00ff"),
        ("SVCB", "0 x.example.com"), ("TLSA", "3 1 1 00ff"),
        ("TXT", '"a" "b"')]]),
    "nul-in-value": b'{"Changes":[{"Action":"CREATE","ResourceRecordSet":'
    b'{"Name":"n.example.com","Type":"A","TTL":1,"ResourceRecords":'
    b'[{"Value":"192.0.2.1\\u0000junk"}]}}]}',
    "nul-in-name": b'{"Changes":[{"Action":"CREATE","ResourceRecordSet":'
    b'{"Name":"n.example.com\\u0000.evil","Type":"A","TTL":1,'
    b'"ResourceRecords":[{"Value":"192.0.2.1"}]}}]}',
    "bad-action": batch(("REPLACE", rrset("x.example.com", "A", 1, ["1.2.3.4"]))),
    "bad-ttl": batch(("CREATE", rrset("x.example.com", "A", -1, ["1.2.3.4"]))),
    "big-ttl": batch(("CREATE", rrset("x.example.com", "A", 2**31, ["1.2.3.4"]))),
    "float-ttl": b'{"Changes":[{"Action":"CREATE","ResourceRecordSet":'
    b'{"Name":"x.","Type":"A","TTL":1.5,"ResourceRecords":[{"Value":"1.2.3.4"}]}}]}',
    "dup-key": b'{"Changes":[],"Changes":[]}',
    "empty-changes": b'{"Changes":[]}',
    "not-object": b'[1,2,3]',
    "unknown-key": b'{"Changes":[{"Action":"CREATE","X":1}]}',
    "too-many": batch(*[("UPSERT", rrset("m.example.com", "A", 1,
                                         ["192.0.2.%d" % i for i in range(1, 101)]))
                        for _ in range(6)]),
    "long-comment": batch(("CREATE", rrset("x.example.com", "A", 1, ["1.2.3.4"])),
                          comment="c" * 300),
    "deep-nesting": b'{"Changes":' + b"[" * 200 + b"]" * 200 + b"}",
    "truncated": batch(("CREATE", rrset("x.example.com", "A", 1, ["1.2.3.4"])))[:40],
}


def write_batches(outdir):
    d = os.path.join(outdir, "change_batch")
    os.makedirs(d, exist_ok=True)
    for k, v in BATCHES.items():
        with open(os.path.join(d, k + ".json"), "wb") as f:
            f.write(v)
    return len(BATCHES)


# --- record values: mode (0 text, 1 wire) + type + body ---
VALUES = [
    ("A", "192.0.2.1"), ("A", "300.1.1.1"), ("A", "\\# 4 c0000201"),
    ("AAAA", "2001:db8::1"), ("AAAA", "::ffff:192.0.2.1"),
    ("CAA", '0 issue "ca.example.net; account=1"'), ("CAA", "128 tbs x"),
    ("CNAME", "www.example.com"), ("CNAME", "www.example.com."),
    ("CNAME", "a\\.b.example.com"), ("DS", "12345 13 2 " + "ab" * 32),
    ("HTTPS", "1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1"),
    ("SVCB", "0 svc.example.com"), ("MX", "10 mail.example.com"),
    ("NAPTR", '100 10 "U" "E2U+sip" "!^.*$!sip:x@example.com!" .'),
    ("NS", "ns1.example.com"), ("PTR", "host.example.com"),
    ("SOA", "ns1.example.com hostmaster.example.com 1 7200 3600 1209600 300"),
    ("SPF", '"v=spf1 -all"'), ("SRV", "10 60 5060 sip.example.com"),
    ("SSHFP", "1 1 " + "ab" * 20), ("TLSA", "3 1 1 " + "cd" * 32),
    ("TXT", '"a" "b" "\\255"'), ("TXT", "unquoted words"),
    ("TXT", '"' + "x" * 255 + '"'), ("TXT", '"' + "x" * 256 + '"'),
    ("TXT", "( \"multi\" )"), ("TXT", '"a" ; comment'),
    ("A", "1.2.3.4 1.2.3.5"), ("A", "$INCLUDE /etc/passwd"),
    ("A", "1.2.3.4\nwww A 1.2.3.4"), ("A", ""), ("A", "   "),
    ("TYPE65534", "\\# 3 010203"), ("TYPE65534", "\\# 0"),
    ("LOC", "52 22 23.000 N 4 53 32.000 E -2.00m"),
]
WIRES = [
    ("A", b"\xc0\x00\x02\x01"), ("A", b"\xc0\x00\x02"),
    ("AAAA", bytes(16)), ("MX", b"\x00\x0a\x04mail\x07example\x03com\x00"),
    ("MX", b"\x00\x0a\xc0\x0c"), ("CNAME", b"\x03www\x00"),
    ("TXT", b"\x05hello\x00"), ("TXT", b"\x05hel"),
    ("SOA", b"\x02ns\x00\x01h\x00" + bytes(20)),
    ("SRV", b"\x00\x01\x00\x02\x00\x03\x00"),
    ("CAA", b"\x00\x05issue" + b"ca"), ("TYPE65534", b"\x01\x02\x03"),
    ("NAPTR", b"\x00\x01\x00\x01\x01U\x00\x00\x00"),
    ("HTTPS", b"\x00\x01\x00\x00\x01\x00\x03\x02h2"),
]


def type_code(name):
    return int(dns.rdatatype.from_text(name))


def write_values(outdir):
    d = os.path.join(outdir, "rdata_text")
    os.makedirs(d, exist_ok=True)
    n = 0
    for i, (t, v) in enumerate(VALUES):
        with open(os.path.join(d, "text-%02d-%s" % (i, t)), "wb") as f:
            f.write(b"\x00" + u16(type_code(t)) + v.encode())
        n += 1
    for i, (t, w) in enumerate(WIRES):
        with open(os.path.join(d, "wire-%02d-%s" % (i, t)), "wb") as f:
            f.write(b"\x01" + u16(type_code(t)) + w)
        n += 1
    return n


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    for sub in ("query", "zone", "raft_msg", "change_batch", "rdata_text"):
        shutil.rmtree(os.path.join(outdir, sub), ignore_errors=True)
    nq = write_queries(outdir)
    nz = write_zones(outdir)
    nr = write_raft_msgs(outdir)
    nb = write_batches(outdir)
    nv = write_values(outdir)
    print("make_corpus: %d queries, %d zones, %d raft messages, %d change "
          "batches, %d record values in %s" % (nq, nz, nr, nb, nv, outdir))


if __name__ == "__main__":
    main()

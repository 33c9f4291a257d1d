"""Differential test of the responder: q53d against Knot DNS (and NSD).

The same zone files (tests/system/zones/) are served by q53d, Knot DNS 3.2 and
NSD 4.6, each started here on 127.0.0.1 and a free port. Every query of
QUERIES (generated deterministically below, > 300) is sent to all three and
the answers are compared section by section:

  * header: id echoed, opcode, rcode (incl. extended rcode), every flag
    (QR AA TC RD RA AD CD);
  * question: exactly, case included (a mixed-case QNAME must come back as
    sent);
  * answer / authority / additional: as sets of RRs (order-insensitive),
    TTL included; owner names compared case-insensitively (RFC 4343: the
    case of owner names in answers carries no meaning);
  * EDNS: present or not, version, UDP payload, DO and the other EDNS flag
    bits, options.

Answers with TC=1 are compared on header, question and EDNS only: how many
RRs a server keeps in a truncated answer is its own choice (RFC 2181 s9, RFC
1035 s4.2.1), the client retries over TCP anyway, and the TCP variant of each
such query is compared in full. The OPT record is compared because RFC 6891
s7 makes it part of the minimal (also truncated) response.

Knot DNS is the reference for q53d: every difference fails, unless it is
listed in Q53D_EXCEPTIONS (keyed by query, with the RFC that allows it).
NSD is compared with Knot the same way; its justified differences are in
NSD_EXCEPTIONS, which documents where two correct implementations differ.

What the references do where the RFCs leave a choice (Knot 3.2.6 / NSD 4.6.1,
as configured in refservers.py; the exception tables hold the details):
  * ANY: both answer ONE RRset of the name, over UDP and over TCP (RFC 8482);
  * CD is cleared in every answer by both (RFC 4035 s3.1.6 says copy it); RD
    is copied, AD/RA/AA/TC/Z of the query are ignored;
  * REFUSED (name outside every zone) carries EDE 20 when the query had EDNS;
  * CH queries: REFUSED (identity/version answers disabled); QCLASS *:
    answered from class IN (Knot with AA, NSD without);
  * AXFR over UDP: NOTIMP (Knot) / REFUSED (NSD); over TCP without an ACL:
    NOTAUTH (Knot) / REFUSED (NSD);
  * NOTIFY / UPDATE without ACL: Knot NOTAUTH; NSD REFUSED or NXDOMAIN
    (NOTIFY) and NOTIMP (UPDATE); other opcodes: NOTIMP (Knot echoes the
    question, NSD sends the header only);
  * QDCOUNT=0: FORMERR (Knot, with OPT if the query had one); NSD answers
    NOERROR to QDCOUNT=0 with OPT and closes TCP; QDCOUNT=2 and malformed
    names: Knot drops, NSD FORMERR; QR=1 and < 12 octets: both drop.

Run:  Q53D=/path/to/q53d python3 -m pytest tests/system/test_differential.py
Without a usable Q53D the Knot-vs-NSD half still runs and q53d's is skipped.
"""
import os
import random
import socket
import struct
import sys
from dataclasses import dataclass
from typing import Callable

import pytest

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.zone
import dns.update

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from q53d import ZONES, Q53d, q53d_binary  # noqa: E402
from refservers import KnotServer, NSDServer  # noqa: E402

ZONE_FILES = [
    ("example.com.", os.path.join(ZONES, "example.com.zone")),
    ("example.", os.path.join(ZONES, "example.zone")),
    ("child.example.com.", os.path.join(ZONES, "child.example.com.zone")),
    ("2.0.192.in-addr.arpa.", os.path.join(ZONES, "2.0.192.in-addr.arpa.zone")),
]

# Every record type present in the zones, plus the meta/DNSSEC types asked of
# an unsigned zone.
DATA_TYPES = ["A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS",
              "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT",
              "TYPE65400"]
EXTRA_TYPES = ["ANY", "DNSKEY", "RRSIG", "NSEC", "NSEC3PARAM", "TYPE65401"]

UDP_TIMEOUT = 1.0
ATTEMPTS = 2  # UDP retries on timeout only (loopback loses nothing, ASan is slow)


# --------------------------------------------------------------------------
# queries


@dataclass
class Query:
    key: str                       # unique, human-readable; the test id
    build: Callable[[int], bytes]  # query id -> wire
    tcp: bool = False
    qid: int = 0


def _msg(name, rdtype="A", rdclass="IN", edns=0, payload=1232, do=False,
         rd=True, flags_on=0, opcode=None, options=None, ednsflags=0):
    """A query with dnspython; edns=None means no OPT."""
    q = dns.message.make_query(dns.name.from_text(name), rdtype, rdclass,
                               use_edns=(edns if edns is not None else False),
                               payload=payload, want_dnssec=do,
                               options=options)
    if edns is not None and ednsflags:
        q.ednsflags |= ednsflags
    if not rd:
        q.flags &= ~dns.flags.RD
    q.flags |= flags_on
    if opcode is not None:
        q.set_opcode(opcode)
    return q


def msg_builder(**kw):
    def build(qid):
        q = _msg(**kw)
        q.id = qid
        return q.to_wire()
    return build


def raw_builder(fn):
    """fn(qid) -> bytes: hand-made wire for what dnspython will not write."""
    return fn


OPT_1232 = struct.pack("!BHHIH", 0, 41, 1232, 0, 0)  # root, OPT, payload, ttl, rdlen
OPT_V1 = struct.pack("!BHHIH", 0, 41, 1232, 0x00010000, 0)  # EDNS version 1
OPT_V1_DO = struct.pack("!BHHIH", 0, 41, 1232, 0x00018000, 0)  # version 1, DO


def _qsec(name, rdtype, rdclass=1):
    return dns.name.from_text(name).to_wire() + struct.pack("!HH", rdtype, rdclass)


def _hdr(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def generate_queries():
    """The query list, deterministic. Keys read as
    '<transport> <edns variant> <qname> <class> <type>' or a short label."""
    qs = []
    seen = set()

    def add(key, build, tcp=False):
        assert key not in seen, key
        seen.add(key)
        qs.append(Query(key, build, tcp))

    def std(name, rdtype="A", variants=("edns",), rdclass="IN", tcp=False):
        for v in variants:
            kw = dict(name=name, rdtype=rdtype, rdclass=rdclass)
            if v == "noedns":
                kw["edns"] = None
            elif v == "do":
                kw["do"] = True
            proto = "tcp" if tcp else "udp"
            cls = "" if rdclass == "IN" else f" {rdclass}"
            key = f"{proto} {v} {name}{cls} {rdtype}"
            if key not in seen:  # the sections below overlap on purpose
                add(key, msg_builder(**kw), tcp)

    # 1. every type at a sample of names, one per lookup outcome: apex, plain
    #    name, NXDOMAIN, ENT, wildcard, CNAME, delegation, name with only an
    #    unknown type + A, wildcard in the RFC 4592 zone, nested zone apex.
    sweep = ["example.com.", "www.example.com.", "nonexistent.example.com.",
             "b.ent.example.com.", "foo.wild.example.com.", "alias.example.com.",
             "sub.example.com.", "unknown.example.com.", "host3.example.",
             "child.example.com."]
    for name in sweep:
        for t in DATA_TYPES + EXTRA_TYPES:
            std(name, t)

    # 2. every type where it exists (plus the additional-section candidates)
    for name, t in [
        ("example.com.", "MX"), ("example.com.", "NAPTR"), ("example.com.", "HTTPS"),
        ("example.com.", "CAA"), ("example.com.", "SPF"), ("example.com.", "NS"),
        ("_443._tcp.www.example.com.", "TLSA"), ("_25._tcp.mail.example.com.", "TLSA"),
        ("_sip._udp.example.com.", "SRV"), ("_dns.resolver.example.com.", "SVCB"),
        ("svc.example.com.", "HTTPS"), ("svc2.example.com.", "SVCB"),
        ("ptr.example.com.", "PTR"), ("www.example.com.", "SSHFP"),
        ("unknown.example.com.", "TYPE65400"), ("txt.example.com.", "TXT"),
        ("longtxt.example.com.", "TXT"), ("ttl.example.com.", "A"),
        ("ttl.example.com.", "TXT"), ("ttl.example.com.", "AAAA"),
        ("mail.example.com.", "AAAA"), ("ns2.example.com.", "AAAA"),
        ("10.2.0.192.in-addr.arpa.", "PTR"), ("53.2.0.192.in-addr.arpa.", "PTR"),
        ("1.2.0.192.in-addr.arpa.", "PTR"), ("99.2.0.192.in-addr.arpa.", "PTR"),
        ("2.0.192.in-addr.arpa.", "SOA"), ("2.0.192.in-addr.arpa.", "NS"),
        ("10.2.0.192.in-addr.arpa.", "A"),
    ]:
        std(name, t, variants=("edns", "noedns"))

    # 3. the rules, each without EDNS and with EDNS+DO
    rules = [
        # NXDOMAIN / NODATA, SOA TTL capped by MINIMUM (RFC 2308 s3, s5)
        ("nonexistent.example.com.", "A"), ("deep.nonexistent.example.com.", "A"),
        ("ent.example.com.", "A"), ("b.ent.example.com.", "TXT"), ("a.b.ent.example.com.", "A"),
        ("a.b.ent.example.com.", "AAAA"), ("c.b.ent.example.com.", "A"),
        ("x.a.b.ent.example.com.", "A"), ("www.example.com.", "MX"),
        ("host1.example.", "AAAA"), ("example.", "A"),
        # CNAME (RFC 1034 4.3.2 step 3a)
        ("alias.example.com.", "A"), ("alias.example.com.", "AAAA"), ("alias.example.com.", "MX"),
        ("alias.example.com.", "CNAME"), ("alias2.example.com.", "A"),
        ("alias3.example.com.", "A"), ("alias3.example.com.", "CNAME"),
        ("alias3.example.com.", "TXT"), ("dangling.example.com.", "A"),
        ("dangling.example.com.", "CNAME"), ("external.example.com.", "A"),
        ("crosszone.example.com.", "A"), ("towild.example.com.", "A"),
        ("towild.example.com.", "TXT"), ("towild.example.com.", "AAAA"),
        ("tosub.example.com.", "A"), ("toent.example.com.", "A"),
        ("loop1.example.com.", "A"), ("selfloop.example.com.", "A"),
        ("tochild.example.com.", "A"),
        # wildcards, RFC 4592 s2.2.1 examples (zone example.)
        ("host3.example.", "MX"), ("host3.example.", "A"), ("foo.bar.example.", "TXT"),
        ("host1.example.", "MX"), ("sub.*.example.", "MX"),
        ("_telnet._tcp.host1.example.", "SRV"), ("host.subdel.example.", "A"),
        ("ghost.*.example.", "MX"),
        # more of that zone: the * name itself, ENTs that block the wildcard
        ("*.example.", "TXT"), ("*.example.", "MX"), ("*.example.", "A"),
        ("_tcp.host1.example.", "SRV"), ("host2.example.", "A"), ("host2.example.", "TXT"),
        ("_ssh._tcp.host2.example.", "SRV"), ("_ssh._tcp.host1.example.", "SRV"),
        ("subdel.example.", "NS"), ("subdel.example.", "DS"), ("subdel.example.", "A"),
        ("www.example.", "A"), ("www.example.", "TXT"),
        # wildcards in example.com
        ("foo.wild.example.com.", "A"), ("foo.wild.example.com.", "MX"),
        ("foo.wild.example.com.", "AAAA"), ("a.b.wild.example.com.", "TXT"),
        ("*.wild.example.com.", "A"), ("*.wild.example.com.", "AAAA"),
        ("wild.example.com.", "A"), ("y.wild.example.com.", "A"),
        ("z.y.wild.example.com.", "A"), ("x.y.wild.example.com.", "A"),
        ("w.x.y.wild.example.com.", "A"), ("foo.wc.example.com.", "A"),
        ("foo.wc.example.com.", "CNAME"), ("foo.wc.example.com.", "TXT"),
        ("foo.wcdeep.example.com.", "A"), ("foo.wcext.example.com.", "A"),
        ("*.wc.example.com.", "A"),
        # delegations: referral without AA, glue; DS at the cut is the parent's
        ("sub.example.com.", "NS"), ("sub.example.com.", "A"), ("sub.example.com.", "DS"),
        ("sub.example.com.", "SOA"), ("www.sub.example.com.", "A"),
        ("ns1.sub.example.com.", "A"), ("ns2.sub.example.com.", "AAAA"),
        ("deep.below.sub.example.com.", "A"), ("below.sub.example.com.", "A"),
        ("sub2.example.com.", "NS"), ("sub2.example.com.", "DS"), ("x.sub2.example.com.", "A"),
        ("x.sub2.example.com.", "DS"),
        # nested served zone: deepest zone answers, DS from the parent
        ("child.example.com.", "NS"), ("child.example.com.", "DS"),
        ("child.example.com.", "SOA"), ("www.child.example.com.", "A"),
        ("ns.child.example.com.", "A"), ("x.child.example.com.", "A"),
        # outside every zone: REFUSED
        ("www.example.org.", "A"), ("com.", "A"), (".", "SOA"), ("example.net.", "A"),
        ("example.com.example.org.", "A"), ("3.0.192.in-addr.arpa.", "PTR"),
        ("in-addr.arpa.", "NS"),
        # additional-section processing
        ("example.com.", "MX"), ("_sip._udp.example.com.", "SRV"),
        ("example.com.", "NS"), ("svc.example.com.", "HTTPS"),
        ("_dns.resolver.example.com.", "SVCB"),
        # case: matching is case-insensitive, the question comes back as sent
        ("wWw.ExAmPlE.CoM.", "A"), ("MiXeD.example.com.", "A"), ("mixed.example.com.", "A"),
        ("MIXED.EXAMPLE.COM.", "AAAA"), ("ExAmPlE.cOm.", "SOA"), ("FOO.WiLd.example.com.", "A"),
        ("Www.SuB.example.com.", "A"), ("NONEXIST.Example.COM.", "A"),
        ("ALIAS3.example.com.", "A"), ("Host3.EXAMPLE.", "MX"), ("Foo.Wc.Example.Com.", "A"),
        ("CHILD.example.COM.", "DS"),
    ]
    for name, t in rules:
        std(name, t, variants=("noedns", "edns", "do"))

    # 4. ANY (RFC 8482)
    for name in ["example.com.", "www.example.com.", "foo.wild.example.com.",
                 "alias.example.com.", "sub.example.com.", "nonexistent.example.com.",
                 "*.example."]:
        std(name, "ANY", variants=("noedns", "do"))
        std(name, "ANY", variants=("edns",), tcp=True)

    # 5. classes
    for name, t, c in [("version.bind.", "TXT", "CH"), ("id.server.", "TXT", "CH"),
                       ("hostname.bind.", "TXT", "CH"), ("version.server.", "TXT", "CH"),
                       ("www.example.com.", "A", "CH"), ("www.example.com.", "A", "ANY"),
                       ("example.com.", "SOA", "ANY"), ("www.example.com.", "A", "HS"),
                       ("www.example.com.", "A", "NONE"), ("www.example.com.", "A", "CLASS77")]:
        std(name, t, rdclass=c, variants=("noedns", "edns"))

    # 6. EDNS (RFC 6891)
    www = "www.example.com."
    add("udp edns0 payload512 www A", msg_builder(name=www, payload=512))
    add("udp edns0 payload4096 www A", msg_builder(name=www, payload=4096))
    add("udp edns0 payload0 www A", msg_builder(name=www, payload=0))
    add("udp edns0 payload65535 www A", msg_builder(name=www, payload=65535))
    # EDNS version 1 (dnspython 2.3 writes version 0 for use_edns=1): BADVERS
    for label, name in [("www", www), ("nonexistent", "nonexistent.example.com."),
                        ("outside", "www.example.org.")]:
        add(f"udp edns1 {label} A (BADVERS)", raw_builder(
            lambda i, n=name: _hdr(i, ar=1) + _qsec(n, 1) + OPT_V1))
        add(f"udp edns1 do {label} A (BADVERS)", raw_builder(
            lambda i, n=name: _hdr(i, ar=1) + _qsec(n, 1) + OPT_V1_DO))
    add("udp edns0 unknown-option www A",
        msg_builder(name=www, options=[dns.edns.GenericOption(65001, b"\x01\x02")]))
    add("udp edns0 cookie-option www A",
        msg_builder(name=www, options=[dns.edns.GenericOption(10, b"\x01\x02\x03\x04\x05\x06\x07\x08")]))
    add("udp edns0 nsid-option www A",
        msg_builder(name=www, options=[dns.edns.GenericOption(3, b"")]))
    add("udp edns0 padding-option www A",
        msg_builder(name=www, options=[dns.edns.GenericOption(12, b"\x00" * 16)]))
    add("udp edns0 z-flag-bits www A", msg_builder(name=www, ednsflags=0x4000))
    add("udp edns0 do+z-flag-bits www A", msg_builder(name=www, do=True, ednsflags=0x0001))
    add("tcp edns0 do www A", msg_builder(name=www, do=True), tcp=True)
    add("tcp noedns www A", msg_builder(name=www, edns=None), tcp=True)
    add("udp two OPT records", raw_builder(
        lambda i: _hdr(i, ar=2) + _qsec(www, 1) + OPT_1232 + OPT_1232))
    add("udp OPT with non-root owner", raw_builder(
        lambda i: _hdr(i, ar=1) + _qsec(www, 1) + b"\x01a\x00" + OPT_1232[1:]))

    # 7. header flags in the query: which are copied
    add("udp rd=0 www A", msg_builder(name=www, rd=False))
    add("udp rd=0 noedns nonexistent A", msg_builder(name="nonexistent.example.com.", rd=False, edns=None))
    add("udp cd www A", msg_builder(name=www, flags_on=dns.flags.CD))
    add("udp cd do www A", msg_builder(name=www, flags_on=dns.flags.CD, do=True))
    add("udp ad www A", msg_builder(name=www, flags_on=dns.flags.AD))
    add("udp ad noedns www A", msg_builder(name=www, flags_on=dns.flags.AD, edns=None))
    add("udp ra www A", msg_builder(name=www, flags_on=dns.flags.RA))
    add("udp aa www A", msg_builder(name=www, flags_on=dns.flags.AA))
    add("udp tc www A", msg_builder(name=www, flags_on=dns.flags.TC))
    add("udp z-bit www A", raw_builder(lambda i: _hdr(i, flags=0x0140) + _qsec(www, 1)))
    add("udp cd refused", msg_builder(name="www.example.org.", flags_on=dns.flags.CD))
    add("udp cd referral", msg_builder(name="www.sub.example.com.", flags_on=dns.flags.CD))

    # 8. opcodes, counts, malformed
    add("udp opcode NOTIFY example.com SOA",
        msg_builder(name="example.com.", rdtype="SOA", opcode=dns.opcode.NOTIFY, rd=False, edns=None))
    add("udp opcode NOTIFY outside SOA",
        msg_builder(name="example.org.", rdtype="SOA", opcode=dns.opcode.NOTIFY, rd=False, edns=None))

    def update(i):
        u = dns.update.UpdateMessage("example.com.", id=i)
        u.add("new", 300, "A", "192.0.2.99")
        return u.to_wire()
    add("udp opcode UPDATE example.com", raw_builder(update))
    for op, label in [(1, "IQUERY"), (2, "STATUS"), (3, "3"), (6, "DSO"), (15, "15")]:
        add(f"udp opcode {label} www A",
            raw_builder(lambda i, op=op: _hdr(i, flags=(op << 11)) + _qsec(www, 1)))
    add("udp qdcount=0", raw_builder(lambda i: _hdr(i, qd=0)))
    add("udp qdcount=0 edns", raw_builder(lambda i: _hdr(i, qd=0, ar=1) + OPT_1232))
    add("tcp qdcount=0", raw_builder(lambda i: _hdr(i, qd=0)), tcp=True)
    add("udp qdcount=2", raw_builder(
        lambda i: _hdr(i, qd=2) + _qsec(www, 1) + _qsec("example.com.", 6)))
    add("udp ancount=1 in query", raw_builder(
        lambda i: _hdr(i, an=1) + _qsec(www, 1)
        + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x01\x02\x03\x04"))
    add("udp nscount=1 in query", raw_builder(
        lambda i: _hdr(i, ns=1) + _qsec(www, 1)
        + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x01\x02\x03\x04"))
    add("udp truncated question", raw_builder(lambda i: _hdr(i) + _qsec(www, 1)[:-3]))
    add("udp trailing garbage", raw_builder(lambda i: _hdr(i) + _qsec(www, 1) + b"\x00\x01\x02"))
    add("udp label too long", raw_builder(lambda i: _hdr(i) + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01"))
    add("udp compression pointer in question", raw_builder(
        lambda i: _hdr(i) + b"\x03www\xc0\x0c" + b"\x00\x01\x00\x01"))
    add("udp QR=1 (must be dropped)", raw_builder(lambda i: _hdr(i, flags=0x8100) + _qsec(www, 1)))
    add("udp header only 11 octets", raw_builder(lambda i: _hdr(i)[:11]))

    # 9. meta types and qtypes that are not data (RFC 1035 3.2.3, RFC 6895)
    for t in ["AXFR", "IXFR", "MAILA", "MAILB", "TKEY", "TSIG", "OPT", "TYPE0", "TYPE128"]:
        std("example.com.", t, variants=("noedns",))
    std("example.com.", "AXFR", variants=("noedns",), tcp=True)
    std("example.com.", "IXFR", variants=("noedns",), tcp=True)

    # 10. sizes: TC over UDP, full over TCP (RFC 1035 4.2.1, RFC 6891 s7)
    for name, t in [("many.example.com.", "A"), ("big.example.com.", "TXT"),
                    ("huge.example.com.", "TXT"), ("longtxt.example.com.", "TXT"),
                    ("example.com.", "ANY")]:
        std(name, t, variants=("noedns", "edns", "do"))
        std(name, t, variants=("noedns", "edns", "do"), tcp=True)
    add("udp edns0 payload512 many A", msg_builder(name="many.example.com.", payload=512))
    add("udp edns0 payload1400 huge TXT", msg_builder(name="huge.example.com.", rdtype="TXT", payload=1400))

    rnd = random.Random(0x5153)
    for q in qs:
        q.qid = rnd.randrange(1, 65536)
    return qs


QUERIES = generate_queries()
QUERY_BY_KEY = {q.key: q for q in QUERIES}


# --------------------------------------------------------------------------
# transport


def _udp(host, port, wire, qid):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        for _ in range(ATTEMPTS):
            s.send(wire)
            s.settimeout(UDP_TIMEOUT)
            try:
                while True:  # skip stray datagrams with another id
                    data = s.recv(65535)
                    if len(data) < 2 or struct.unpack("!H", data[:2])[0] == qid:
                        return data
            except socket.timeout:
                continue
    return None


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _tcp(host, port, wire):
    with socket.create_connection((host, port), timeout=UDP_TIMEOUT * 2) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        try:
            hdr = _recv_exact(s, 2)
            if hdr is None:
                return None
            return _recv_exact(s, struct.unpack("!H", hdr)[0])
        except (socket.timeout, ConnectionResetError):
            return None


def ask(server, q):
    wire = q.build(q.qid)
    if q.tcp:
        return _tcp(server.host, server.port, wire)
    return _udp(server.host, server.port, wire, q.qid)


# --------------------------------------------------------------------------
# normalisation and comparison


def _rr_lines(section):
    out = []
    for rrset in section:
        owner = rrset.name.to_text().lower()
        cls = dns.rdataclass.to_text(rrset.rdclass)
        typ = dns.rdatatype.to_text(rrset.rdtype)
        for rd in rrset:
            out.append(f"{owner} {rrset.ttl} {cls} {typ} {rd.to_text()}")
    return sorted(out)

def _raw_header(wire):
    """What can be said of an answer dnspython refuses to parse (e.g. an
    opcode it does not know)."""
    if len(wire) < 12:
        return {"answer?": f"short answer ({len(wire)} octets)"}
    qid, fl, qd, an, ns, ar = struct.unpack("!HHHHHH", wire[:12])
    return {"answer?": "unparsed by dnspython", "header": f"flags={fl:#06x} "
            f"opcode={(fl >> 11) & 0xF} rcode={fl & 0xF} qd={qd} an={an} ns={ns} ar={ar}",
            "len": len(wire)}


def normalise(wire, qid):
    """A comparable dict of the answer (or a marker when there is none)."""
    if wire is None:
        return {"answer?": "no answer (dropped / closed)"}
    try:
        m = dns.message.from_wire(wire)
    except Exception:  # noqa: BLE001 - record what was received
        return _raw_header(wire)
    n = {
        "id": "echoed" if m.id == qid else f"{m.id} != {qid}",
        "opcode": dns.opcode.to_text(m.opcode()),
        "rcode": dns.rcode.to_text(m.rcode()),
        "flags": dns.flags.to_text(m.flags),
        "question": [f"{r.name.to_text()} {dns.rdataclass.to_text(r.rdclass)} "
                     f"{dns.rdatatype.to_text(r.rdtype)}" for r in m.sections[0]],
    }
    if m.flags & dns.flags.TC:
        # See the module docstring: header, question and OPT of TC answers.
        n["truncated"] = "sections not compared (TC)"
    else:
        n["answer"] = _rr_lines(m.sections[1])
        n["authority"] = _rr_lines(m.sections[2])
        n["additional"] = _rr_lines(m.sections[3])
    if m.edns < 0:
        n["edns"] = None
    else:
        n["edns"] = {"version": m.edns, "payload": m.payload,
                     "flags": f"{m.ednsflags & 0xFFFF:#06x}",  # ext. rcode is in rcode
                     "options": sorted(f"{o.otype}:{o.to_wire().hex()}" for o in m.options)}
    return n


def diff(a, b, ignore=()):
    """{field: (a, b)} for the fields that differ. An answer that is missing
    or unparseable on either side is one field: the whole answer."""
    if "answer?" in a or "answer?" in b:
        return {} if a == b or "whole answer" in ignore else {"whole answer": (a, b)}
    out = {}
    for k in sorted(set(a) | set(b)):
        if k in ignore:
            continue
        av, bv = a.get(k), b.get(k)
        # "case:SECTION": the section is compared ignoring the case of its
        # text (names in RDATA may legitimately take the query's case).
        if f"case:{k}" in ignore and isinstance(av, list) and isinstance(bv, list):
            av = sorted(x.lower() for x in av)
            bv = sorted(x.lower() for x in bv)
        if av != bv:
            out[k] = (a.get(k), b.get(k))
    return out


def fmt_diff(d, names=("knot", "other")):
    lines = []
    for k, (a, b) in d.items():
        lines.append(f"  {k}:")
        if isinstance(a, list) and isinstance(b, list) and k != "question":
            for x in sorted(set(a) - set(b)):
                lines.append(f"    only {names[0]}: {x[:160]}")
            for x in sorted(set(b) - set(a)):
                lines.append(f"    only {names[1]}: {x[:160]}")
        else:
            lines.append(f"    {names[0]}: {a}")
            lines.append(f"    {names[1]}: {b}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Justified differences: {query key: (fields not compared, why)}. Anything not
# listed must be identical to Knot. Built from (qname, qtype) pairs expanded
# over every transport / EDNS variant of that question in QUERIES.


def _expand(pairs, fields, why):
    out = {}
    for name, qtype in pairs:
        keys = [k for k in QUERY_BY_KEY if k.endswith(f" {name} {qtype}")
                and k.split()[0] in ("udp", "tcp")]
        assert keys, f"no query for {name} {qtype}"
        for k in keys:
            out[k] = (tuple(fields), why)
    return out


def _keys(keys, fields, why):
    for k in keys:
        assert k in QUERY_BY_KEY, k
    return {k: (tuple(fields), why) for k in keys}


# ANY at a name that has data: RFC 8482 s4.1/4.2 lets the responder return
# any one (non-empty) subset of the RRsets; Knot 3.2 and NSD 4.6 both return
# ONE RRset, over UDP and TCP alike, but pick different ones (Knot: the first
# in its node, e.g. A at the apex; NSD: SOA at the apex). The answer and the
# additional section it drives are checked by test_any_answer_is_rrsets_of_the_name.
ANY_AT_DATA = [(n, "ANY") for n in [
    "example.com.", "www.example.com.", "foo.wild.example.com.", "alias.example.com.",
    "unknown.example.com.", "host3.example.", "child.example.com.", "*.example."]]
ANY_EXCEPTIONS = _expand(ANY_AT_DATA, ("answer", "additional"), "RFC 8482 s4.1")

# q53d: where Knot is not the better answer.
Q53D_EXCEPTIONS = {
    **ANY_EXCEPTIONS,
    # Name compression and case (RFC 1035 s4.1.4, RFC 4343 s4.1): both servers
    # compress RDATA names against the question case-insensitively, so a
    # name there may carry the query's case. Knot matches only against the
    # last name it wrote (a heuristic), q53d against every name in the
    # message; for this referral the NS targets come out "ns1.SuB.example.com"
    # from q53d and "ns1.sub.example.com" from Knot. Same names (RFC 4343).
    **_keys(["udp noedns Www.SuB.example.com. A", "udp edns Www.SuB.example.com. A",
             "udp do Www.SuB.example.com. A"], ("case:authority",), "RFC 4343 s4.1"),
    # RFC 4035 s3.1.6: "the name server side MUST copy the setting of the CD
    # bit from a query to the corresponding response". Knot 3.2 (and NSD 4.6)
    # clear it on unsigned zones; q53d copies it.
    **_keys(["udp cd www A", "udp cd do www A", "udp cd referral", "udp cd refused"],
            ("flags",), "RFC 4035 s3.1.6"),
    # RFC 6891 s6.1.1: the OPT owner MUST be the root; q53d (and NSD) answer
    # FORMERR (RFC 1035 s4.1.1), Knot ignores the owner.
    **_keys(["udp OPT with non-root owner"], ("rcode", "flags", "answer", "edns"), "RFC 6891 s6.1.1"),
    # Malformed or multi-question queries: Knot drops them silently, q53d (and
    # NSD) answer FORMERR, "unable to interpret the query" (RFC 1035 s4.1.1;
    # RFC 9619 makes QDCOUNT > 1 a FORMERR too).
    **_keys(["udp qdcount=2", "udp truncated question", "udp label too long",
             "udp compression pointer in question"], ("whole answer",), "RFC 1035 s4.1.1"),
    # NOTIFY / UPDATE: q53d is neither a secondary nor an UPDATE server; it
    # answers NOTIMP (RFC 1035 s4.1.1, RFC 2136 s3.8 "NOTIMP" for servers
    # without UPDATE). Knot says NOTAUTH (no ACL), NSD REFUSED/NOTIMP.
    **_keys(["udp opcode NOTIFY example.com SOA", "udp opcode NOTIFY outside SOA",
             "udp opcode UPDATE example.com"], ("rcode",), "RFC 1035 s4.1.1, RFC 2136 s3"),
    # Zone transfers are not offered: q53d REFUSED (policy refusal, RFC 5936
    # s2.2.1 / RFC 1035 s4.1.1), Knot NOTAUTH (no TSIG/ACL) and, for AXFR over
    # UDP (not defined, RFC 5936 s4.2), NOTIMP. NSD: REFUSED, as q53d.
    **_keys(["udp noedns example.com. AXFR", "udp noedns example.com. IXFR",
             "tcp noedns example.com. AXFR", "tcp noedns example.com. IXFR"],
            ("rcode",), "RFC 5936 s2.2.1, s4.2"),
}

# NSD 4.6.1 (minimal-responses: yes, refuse-any: no, no RRL) against Knot
# 3.2: two correct servers that still differ. This is documentation of the
# reference servers as much as a test.
NSD_EXCEPTIONS = {
    **ANY_EXCEPTIONS,
    # minimal-responses: NSD adds additional data only to referrals; Knot adds
    # the in-zone addresses of MX/SRV/SVCB/HTTPS targets. The additional
    # section is optional (RFC 1034 s4.3.2 step 6, RFC 2181 s5.4.1).
    **_expand([("example.com.", "MX"), ("foo.wild.example.com.", "MX"),
               ("host3.example.", "MX"), ("Host3.EXAMPLE.", "MX"), ("*.example.", "MX"),
               ("_sip._udp.example.com.", "SRV"), ("_ssh._tcp.host1.example.", "SRV"),
               ("_dns.resolver.example.com.", "SVCB"), ("svc.example.com.", "HTTPS")],
              ("additional",), "RFC 1034 s4.3.2 step 6"),
    # A CNAME into another zone served here: NSD follows it (RFC 1034 s4.3.2
    # step 3a "go back to step 1", which picks the zone again), Knot stops at
    # the zone boundary (RFC 6672 s3.2 / resolvers discard out-of-zone data
    # anyway, RFC 2181 s5.4.1). For www.child Knot then answers from the
    # parent zone: the CNAME plus the referral to child.
    **_expand([("crosszone.example.com.", "A"), ("tochild.example.com.", "A")],
              ("answer", "authority", "additional"), "RFC 1034 s4.3.2 step 3a"),
    # RRSIG and NSEC may coexist with a CNAME (RFC 4035 s2.5, RFC 2181 s10.1):
    # Knot answers them from the node itself (NODATA here), NSD follows the
    # CNAME.
    **_expand([("alias.example.com.", "RRSIG"), ("alias.example.com.", "NSEC")],
              ("answer",), "RFC 4035 s2.5"),
    # NSD compresses RDATA names against the (mixed-case) question name, so
    # the NS targets of the referral come out as ns1.SuB.example.com; names
    # compare case-insensitively (RFC 4343 s3), Knot preserves the zone's case
    # (RFC 4343 s4.1).
    **_expand([("Www.SuB.example.com.", "A")], ("authority",), "RFC 4343 s3, s4.1"),
    # NSD adds Extended DNS Errors: 18 Prohibited to CH queries, 21 Not
    # Supported to unknown classes (RFC 8914 s4.19, s4.22, optional).
    **_expand([(n, "TXT") for n in ["version.bind. CH", "id.server. CH", "hostname.bind. CH",
                                      "version.server. CH"]] + [("www.example.com. CH", "A")],
              ("edns",), "RFC 8914"),
    # Unknown classes: both REFUSED; NSD leaves the question out (RFC 1035
    # s4.1.2 does not oblige an error response to echo it).
    **_expand([("www.example.com. HS", "A"), ("www.example.com. NONE", "A"),
               ("www.example.com. CLASS77", "A")], ("question", "edns"), "RFC 1035 s4.1.2, RFC 8914"),
    # QCLASS * (RFC 1035 s3.2.5): both answer from class IN; NSD clears AA
    # (data of one class cannot be authoritative for "any class").
    **_expand([("www.example.com. ANY", "A"), ("example.com. ANY", "SOA")], ("flags",),
              "RFC 1035 s3.2.5, s6.2"),
    # RFC 3225 s3: "The DO bit of the query MUST be copied in the response";
    # NSD does not copy it into its BADVERS answers, Knot does.
    **_keys(["udp edns1 do www A (BADVERS)", "udp edns1 do nonexistent A (BADVERS)",
             "udp edns1 do outside A (BADVERS)"], ("edns",), "RFC 3225 s3 (NSD deviates)"),
    # Error answers: which parts of the query are echoed, and which rcode.
    **_keys(["udp two OPT records"], ("question",), "RFC 6891 s6.1.1 (FORMERR)"),
    **_keys(["udp OPT with non-root owner"], ("rcode", "flags", "answer", "edns", "question"),
            "RFC 6891 s6.1.1"),
    **_keys(["udp opcode NOTIFY example.com SOA", "udp opcode NOTIFY outside SOA",
             "udp opcode UPDATE example.com", "udp opcode IQUERY www A",
             "udp opcode STATUS www A"], ("rcode", "question"), "RFC 1996, RFC 2136, RFC 3425"),
    **_keys(["udp opcode 3 www A", "udp opcode DSO www A", "udp opcode 15 www A"],
            ("whole answer",), "RFC 1035 s4.1.1 NOTIMP, with / without the question"),
    **_keys(["udp qdcount=0 edns", "tcp qdcount=0", "udp qdcount=2",
             "udp truncated question", "udp label too long",
             "udp compression pointer in question", "udp trailing garbage",
             "udp ancount=1 in query", "udp nscount=1 in query"],
            ("whole answer", "rcode", "flags", "answer", "question", "edns"),
            "RFC 1035 s4.1.1 FORMERR / drop; RFC 7873 s5.4 (QDCOUNT=0)"),
    **_keys(["udp noedns example.com. IXFR", "tcp noedns example.com. AXFR",
             "tcp noedns example.com. IXFR"], ("rcode",), "RFC 5936 s2.2.1"),
    # QTYPE 0 is reserved (RFC 6895 s3.1): Knot NOTIMP, NSD NODATA.
    **_keys(["udp noedns example.com. TYPE0"], ("rcode", "flags", "authority"), "RFC 6895 s3.1"),
}


# --------------------------------------------------------------------------
# servers and answers (module scope: each server is started once)


def _q53d_usable():
    try:
        q53d_binary()
        return True
    except RuntimeError:
        return False


class Answers(dict):
    """{query key: normalised answer}; a short repr keeps pytest's failure
    reports (which print fixture values) readable."""

    def __repr__(self):
        return f"<{len(self)} answers>"


def _collect(server):
    return Answers((q.key, normalise(ask(server, q), q.qid)) for q in QUERIES)


@pytest.fixture(scope="module")
def knot_answers():
    with KnotServer(ZONE_FILES) as s:
        yield _collect(s)


@pytest.fixture(scope="module")
def nsd_answers():
    with NSDServer(ZONE_FILES) as s:
        yield _collect(s)


@pytest.fixture(scope="module")
def q53d_answers():
    if not _q53d_usable():
        pytest.skip("q53d not built (set Q53D)")
    s = Q53d([(o.rstrip("."), p) for o, p in ZONE_FILES])
    try:
        answers = _collect(s)
        alive = s.alive()
        yield answers
    finally:
        rc = s.stop()
        out = s.output()
        s.cleanup()
    assert alive, f"q53d died during the differential run:\n{out[-4000:]}"
    assert rc == 0, f"q53d exited with {rc}:\n{out[-4000:]}"


def _zone_rrs():
    """{owner: set of 'owner ttl class type rdata' lines} from the zone files."""
    rrs = {}
    for origin, path in ZONE_FILES:
        z = dns.zone.from_file(path, origin, relativize=False, check_origin=True)
        for name, ttl, rd in z.iterate_rdatas():
            owner = name.to_text().lower()
            rrs.setdefault(owner, set()).add(
                f"{owner} {ttl} IN {dns.rdatatype.to_text(rd.rdtype)} {rd.to_text()}")
    return rrs


# --------------------------------------------------------------------------
# tests


def test_query_list_covers_the_rules():
    assert len(QUERIES) >= 300
    keys = " ".join(q.key for q in QUERIES)
    for t in DATA_TYPES:
        assert f" {t}" in keys, t
    assert any(q.tcp for q in QUERIES)
    assert len({q.key for q in QUERIES}) == len(QUERIES)


@pytest.mark.parametrize("key", [q.key for q in QUERIES])
def test_q53d_matches_knot(key, knot_answers, q53d_answers):
    fields, why = Q53D_EXCEPTIONS.get(key, ((), ""))
    d = diff(knot_answers[key], q53d_answers[key], ignore=fields)
    assert not d, f"q53d differs from Knot for {key!r}:\n{fmt_diff(d, ('knot', 'q53d'))}"


@pytest.mark.parametrize("key", [q.key for q in QUERIES])
def test_nsd_matches_knot(key, knot_answers, nsd_answers):
    fields, why = NSD_EXCEPTIONS.get(key, ((), ""))
    d = diff(knot_answers[key], nsd_answers[key], ignore=fields)
    assert not d, f"NSD differs from Knot for {key!r}:\n{fmt_diff(d, ('knot', 'nsd'))}"


@pytest.mark.parametrize("server", ["knot", "nsd", "q53d"])
def test_any_answer_is_rrsets_of_the_name(server, request):
    """RFC 8482 s4.1: the ANY answer is a non-empty subset of the RRsets the
    name owns (or its wildcard synthesises), TTLs unchanged, whole RRsets."""
    answers = request.getfixturevalue(f"{server}_answers")
    zone = _zone_rrs()
    for key, _ in ANY_EXCEPTIONS.items():
        a = answers[key]
        if "truncated" in a:
            continue
        assert a.get("rcode") == "NOERROR" and "AA" in a["flags"].split(), (key, a)
        assert a["answer"], (key, a)
        qname = a["question"][0].split()[0].lower()
        have = zone.get(qname)
        if not have:  # wildcard: the zones' wildcards sit right under the parent
            wild = "*." + qname.split(".", 1)[1]
            have = {line.replace(wild, qname, 1) for line in zone[wild]}
        got = set(a["answer"])
        assert got <= have, (key, sorted(got - have))
        for t in {line.split()[3] for line in got}:  # whole RRsets only
            rrset = {line for line in have if line.split()[3] == t}
            assert rrset <= got, (key, f"partial {t} RRset")

"""EDNS(0) compliance of q53d (responder issue, "What must be shown" item 2).

1. The eight probes of ISC's EDNS compliance tester (ednscomp.isc.org,
   genreport: dns, edns, edns1, edns@512, ednsopt, edns1opt, do, ednsflags),
   each judged the way the tester judges it: RCODE, the OPT record present
   (or absent for plain DNS) with version 0, the SOA answer with AA, no echo
   of unknown options or flags, the size limit.
2. Size limits: no UDP reply exceeds max(512, min(requested payload, our
   payload)) (512 without EDNS); TC exactly when the answer does not fit, and
   the same query over TCP gets the whole answer; we advertise 1232 (or
   --edns-size).
3. OPT misuse: two OPTs, a non-root owner, OPT in the answer or authority
   section: FORMERR.

Names and sizes come from zones-edns/edns.test.zone. Every UDP reply is
compared with the same query's reply over TCP, which is never truncated.
"""
import os
import socket
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.zone
import pytest

import malformed as M
from q53d import Q53d

HERE = os.path.dirname(os.path.abspath(__file__))
ZONE_FILE = os.path.join(HERE, "zones-edns", "edns.test.zone")
ORIGIN = "edns.test."
ZONES = [(ORIGIN, ZONE_FILE)]
OUR_PAYLOAD = 1232
TIMEOUT = 3.0
ZONE = dns.zone.from_file(ZONE_FILE, ORIGIN, relativize=False)
SOA = ZONE.find_rrset(ORIGIN, "SOA")
DO = dns.flags.DO  # 0x8000 in the EDNS flags


def rrset(name, rdtype):
    return ZONE.find_rrset(dns.name.from_text(name, dns.name.from_text(ORIGIN)), rdtype)


# --------------------------------------------------------------------------- transport


def _sock(server, kind):
    fam = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    s = socket.socket(fam, kind)
    s.settimeout(TIMEOUT)
    s.connect((server.host, server.port))
    return s


def udp(server, wire):
    """One datagram out, the reply with the same ID back (or None)."""
    if isinstance(wire, dns.message.Message):
        wire = wire.to_wire()
    with _sock(server, socket.SOCK_DGRAM) as s:
        s.send(wire)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                d = s.recv(65535)
            except socket.timeout:
                return None
            if d[:2] == wire[:2]:
                return d
    return None


def _recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        s.settimeout(left)
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def tcp(server, wire):
    if isinstance(wire, dns.message.Message):
        wire = wire.to_wire()
    with _sock(server, socket.SOCK_STREAM) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        deadline = time.monotonic() + TIMEOUT
        n = struct.unpack("!H", _recv_exact(s, 2, deadline))[0]
        return _recv_exact(s, n, deadline)


def parse(wire):
    """dnspython view plus the strict raw view of a reply."""
    assert wire is not None, "no reply"
    raw = M.parse_message(wire)  # raises on any structural problem
    return dns.message.from_wire(wire, ignore_trailing=False), raw


def make_query(name, rdtype="SOA", edns=None, payload=OUR_PAYLOAD, ednsflags=0, options=None, id_=None):
    q = dns.message.make_query(name, rdtype)
    if edns is not None:
        # set explicitly: make_query() in dnspython 2.3 drops version and flags
        q.use_edns(edns, ednsflags, payload, options=options)
        assert q.edns == edns and (q.ednsflags & 0xFFFF) == ednsflags and q.payload == payload
    q.flags &= ~dns.flags.RD  # like the ISC tester: +norec
    if id_ is not None:
        q.id = id_
    return q


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server():
    s = Q53d(ZONES)
    yield s
    alive = s.alive()
    rc = s.stop()
    out = s.output()
    s.cleanup()
    assert alive, f"q53d died during the EDNS tests: rc={rc}\n{out[-4000:]}"
    assert rc == 0, f"q53d exited {rc} on SIGTERM:\n{out[-4000:]}"


# --------------------------------------------------------------------------- ISC checks


def isc_check(q, wire, *, rcode, opt, soa, server_payload=OUR_PAYLOAD, do=False):
    """The genreport criteria for one probe; returns problems."""
    p = []
    try:
        r, raw = parse(wire)
    except Exception as e:  # noqa: BLE001
        return [f"reply unparseable: {e}"]
    if r.id != q.id:
        p.append("ID not echoed")
    if not r.flags & dns.flags.QR:
        p.append("QR=0")
    if len(r.question) != 1 or r.question[0].name != q.question[0].name \
            or r.question[0].rdtype != q.question[0].rdtype or r.question[0].rdclass != q.question[0].rdclass:
        p.append(f"question not echoed: {r.question}")
    if r.rcode() != rcode:
        p.append(f"rcode {dns.rcode.to_text(r.rcode())}, expected {dns.rcode.to_text(rcode)}")
    if opt:
        if raw.opt is None:
            p.append("no OPT in the reply (expected one)")
        else:
            payload, _ext, version, flags, options = raw.opt
            if version != 0:
                p.append(f"OPT version {version}, expected 0")
            if flags & ~DO:
                p.append(f"unknown EDNS flags echoed: {flags & ~DO:#06x}")
            if bool(flags & DO) != do:
                p.append(f"DO {'not ' if do else ''}set in the reply, query DO={do}")
            if any(code == 100 for code, _ in options):
                p.append("unknown option 100 echoed")
            if payload != server_payload:
                p.append(f"advertised payload {payload}, expected {server_payload}")
    elif raw.opt is not None:
        p.append("OPT in the reply to a query without EDNS")
    if soa:
        if not r.flags & dns.flags.AA:
            p.append("AA not set")
        if r.answer != [SOA]:
            p.append(f"answer {r.answer} != the zone's SOA {SOA}")
        elif r.answer[0].ttl != SOA.ttl:
            p.append(f"SOA TTL {r.answer[0].ttl} != {SOA.ttl}")
    else:
        if raw.counts[1]:
            p.append(f"{raw.counts[1]} answer records in a {dns.rcode.to_text(rcode)} reply")
    if len(wire) > 512 and raw.opt is None:
        p.append(f"{len(wire)} bytes without EDNS")
    return p


def test_isc_dns(server):
    """dns: plain DNS SOA query: NOERROR, AA, the SOA, no OPT."""
    q = make_query(ORIGIN)
    assert not (p := isc_check(q, udp(server, q), rcode=dns.rcode.NOERROR, opt=False, soa=True)), p


def test_isc_edns(server):
    """edns: EDNS version 0: NOERROR, AA, the SOA, OPT version 0."""
    q = make_query(ORIGIN, edns=0)
    assert not (p := isc_check(q, udp(server, q), rcode=dns.rcode.NOERROR, opt=True, soa=True)), p


@pytest.mark.parametrize("version", [1, 100, 255])
def test_isc_edns1(server, version):
    """edns1: EDNS version > 0: BADVERS, OPT version 0, no answer (RFC 6891 6.1.3)."""
    q = make_query(ORIGIN, edns=version)
    assert not (p := isc_check(q, udp(server, q), rcode=dns.rcode.BADVERS, opt=True, soa=False)), p


@pytest.mark.parametrize("qname,rdtype", [(ORIGIN, "DNSKEY"), (ORIGIN, "SOA"), ("mid." + ORIGIN, "TXT"),
                                          ("big." + ORIGIN, "TXT"), ("huge." + ORIGIN, "TXT"),
                                          ("manya." + ORIGIN, "A")])
def test_isc_edns_at_512(server, qname, rdtype):
    """edns@512: DO=1, payload 512: the reply fits 512 bytes, has the OPT,
    and is either complete or TC=1 (then complete over TCP)."""
    q = make_query(qname, rdtype, edns=0, payload=512, ednsflags=DO)
    wire = udp(server, q)
    assert wire is not None, "no reply"
    assert len(wire) <= 512, f"{len(wire)} bytes > 512"
    r, raw = parse(wire)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, r
    assert raw.opt is not None and raw.opt[2] == 0, "OPT missing or not version 0"
    assert raw.opt[3] & DO, "DO not echoed"
    full, _ = parse(tcp(server, q))
    if r.flags & dns.flags.TC:
        assert not full.flags & dns.flags.TC
    else:
        assert r.answer == full.answer, "not TC but the answer is incomplete"


def test_isc_ednsopt(server):
    """ednsopt: unknown option 100: not echoed, normal answer."""
    q = make_query(ORIGIN, edns=0, options=[dns.edns.GenericOption(100, b"")])
    assert not (p := isc_check(q, udp(server, q), rcode=dns.rcode.NOERROR, opt=True, soa=True)), p


@pytest.mark.parametrize("version", [1, 100])
def test_isc_edns1opt(server, version):
    """edns1opt: version > 0 and option 100: BADVERS, OPT v0, option not echoed."""
    q = make_query(ORIGIN, edns=version, options=[dns.edns.GenericOption(100, b"")])
    assert not (p := isc_check(q, udp(server, q), rcode=dns.rcode.BADVERS, opt=True, soa=False)), p


def test_isc_do(server):
    """do: DO=1 is echoed in the reply's OPT (RFC 3225 3)."""
    q = make_query(ORIGIN, edns=0, ednsflags=DO)
    assert not (p := isc_check(q, udp(server, q), rcode=dns.rcode.NOERROR, opt=True, soa=True, do=True)), p


@pytest.mark.parametrize("flags", [0x80, 0x4000, 0x7FFF])
def test_isc_ednsflags(server, flags):
    """ednsflags: unknown EDNS flags (0x80 in the tester) are not echoed."""
    q = make_query(ORIGIN, edns=0, ednsflags=flags)
    assert not (p := isc_check(q, udp(server, q), rcode=dns.rcode.NOERROR, opt=True, soa=True)), p


def test_isc_all_probes_over_tcp(server):
    """The same probes over TCP (genreport's ednstcp / dnstcp): same results."""
    probes = [
        (make_query(ORIGIN), dict(rcode=dns.rcode.NOERROR, opt=False, soa=True)),
        (make_query(ORIGIN, edns=0), dict(rcode=dns.rcode.NOERROR, opt=True, soa=True)),
        (make_query(ORIGIN, edns=1), dict(rcode=dns.rcode.BADVERS, opt=True, soa=False)),
        (make_query(ORIGIN, edns=0, options=[dns.edns.GenericOption(100, b"")]),
         dict(rcode=dns.rcode.NOERROR, opt=True, soa=True)),
        (make_query(ORIGIN, edns=1, options=[dns.edns.GenericOption(100, b"")]),
         dict(rcode=dns.rcode.BADVERS, opt=True, soa=False)),
        (make_query(ORIGIN, edns=0, ednsflags=DO), dict(rcode=dns.rcode.NOERROR, opt=True, soa=True, do=True)),
        (make_query(ORIGIN, edns=0, ednsflags=0x80), dict(rcode=dns.rcode.NOERROR, opt=True, soa=True)),
    ]
    problems = []
    for q, kw in probes:
        p = isc_check(q, tcp(server, q), **kw)
        if p:
            problems.append((q.to_text().splitlines()[:6], p))
    assert not problems, problems


# --------------------------------------------------------------------------- sizes

SIZE_NAMES = [("www", "A"), ("mid", "TXT"), ("big", "TXT"), ("huge", "TXT"), ("manya", "A"),
              ("e512", "TXT"), ("e513", "TXT"), ("e600", "TXT"), ("e601", "TXT"),
              ("e1232", "TXT"), ("e1233", "TXT")]
PAYLOADS = [None, 0, 100, 511, 512, 513, 600, 601, 1000, 1232, 1233, 4096, 65535]


def udp_limit(payload, server_payload=OUR_PAYLOAD):
    if payload is None:
        return 512
    return min(max(payload, 512), server_payload)


def check_size(server, label, rdtype, payload, server_payload=OUR_PAYLOAD, do=False):
    name = f"{label}.{ORIGIN}"
    q = make_query(name, rdtype, edns=None if payload is None else 0, payload=payload or 0,
                   ednsflags=DO if do else 0)
    wire = udp(server, q)
    assert wire is not None, "no UDP reply"
    limit = udp_limit(payload, server_payload)
    assert len(wire) <= limit, f"{name}/{rdtype} payload={payload}: {len(wire)} bytes > {limit}"
    r, raw = parse(wire)
    full_wire = tcp(server, q)
    full, fraw = parse(full_wire)
    assert not full.flags & dns.flags.TC, "TC over TCP"
    want = rrset(label, rdtype)
    assert full.answer == [want], f"TCP answer {full.answer} != zone {want}"
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    if payload is None:
        assert raw.opt is None and fraw.opt is None, "OPT in a reply to a query without EDNS"
    else:
        assert raw.opt is not None, "no OPT in the UDP reply (also required with TC)"
        assert fraw.opt is not None, "no OPT in the TCP reply"
        assert raw.opt[0] == server_payload, f"UDP reply advertises {raw.opt[0]}, not {server_payload}"
        assert fraw.opt[0] == server_payload, f"TCP reply advertises {fraw.opt[0]}, not {server_payload}"
    tc = bool(r.flags & dns.flags.TC)
    if len(full_wire) <= limit:
        assert not tc, (f"{name}: TC set although the whole reply ({len(full_wire)} bytes over TCP) "
                        f"fits {limit}")
        assert r.answer == full.answer
    elif tc:
        # RFC 2181 9: no partial RRsets; whatever is there is a whole RRset
        for rs in r.answer:
            assert rs == want and len(rs) == len(want), f"partial RRset in a TC reply: {rs}"
    else:
        # fits only without optional sections: the answer itself must be complete
        assert r.answer == full.answer, "not TC, answer incomplete"
    return len(wire), tc, len(full_wire)


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: "noedns" if p is None else f"p{p}")
@pytest.mark.parametrize("label,rdtype", SIZE_NAMES, ids=[n for n, _ in SIZE_NAMES])
def test_size_limit(server, label, rdtype, payload):
    check_size(server, label, rdtype, payload)


def test_exact_boundaries(server):
    """The zone's e* names are built so their replies are exactly 512/513
    bytes without EDNS and 600/601, 1232/1233 bytes with; check TC flips
    exactly there (if the server lays out answers as assumed: owner
    compressed, no extra sections, as the TCP sizes show)."""
    cases = [("e512", None, False), ("e513", None, True), ("e600", 600, False), ("e601", 600, True),
             ("e1232", 1232, False), ("e1233", 1232, True), ("e1233", 4096, True), ("e1232", 4096, False)]
    for label, payload, want_tc in cases:
        n, tc, full = check_size(server, label, "TXT", payload)
        limit = udp_limit(payload)
        if (full <= limit) == (not want_tc):
            assert tc == want_tc, f"{label} payload={payload}: TC={tc}, reply {n} bytes, full {full}"


def test_tc_then_tcp_gets_everything(server):
    """An answer that does not fit: TC over UDP (with and without EDNS), the
    full RRset over TCP, as a client retrying would do."""
    want = rrset("huge", "TXT")
    for edns in (None, 0):
        q = make_query("huge." + ORIGIN, "TXT", edns=edns, payload=OUR_PAYLOAD)
        r, raw = parse(udp(server, q))
        assert r.flags & dns.flags.TC, f"edns={edns}: no TC for a {len(want)}-record TXT set"
        assert r.rcode() == dns.rcode.NOERROR and r.id == q.id
        assert len(r.question) == 1 and r.question[0].name == q.question[0].name, "question missing in TC reply"
        full, fraw = parse(tcp(server, q))
        assert not full.flags & dns.flags.TC
        assert full.answer == [want] and len(full.answer[0]) == 20
        assert full.flags & dns.flags.AA
        assert (fraw.opt is not None) == (edns is not None)


def test_advertised_payload_default(server):
    """We advertise 1232 in every OPT we send."""
    qs = [make_query(ORIGIN, edns=0, payload=4096), make_query("nx." + ORIGIN, "A", edns=0),
          make_query("www." + ORIGIN, "TXT", edns=0), make_query("example.invalid.", "A", edns=0),
          make_query(ORIGIN, edns=1), make_query("huge." + ORIGIN, "TXT", edns=0, payload=512)]
    for q in qs:
        r, raw = parse(udp(server, q))
        assert raw.opt is not None, f"no OPT for {q.question}"
        assert raw.opt[0] == OUR_PAYLOAD, f"{q.question}: payload {raw.opt[0]}"
        assert raw.opt[2] == 0


@pytest.mark.parametrize("size", [600, 4096])
def test_edns_size_option(q53d_factory, size):
    """--edns-size N: advertised N, UDP replies capped at min(N, requested)."""
    s = q53d_factory(ZONES, extra=["--edns-size", str(size)])
    r, raw = parse(udp(s, make_query(ORIGIN, edns=0)))
    assert raw.opt[0] == size
    for label, rdtype in SIZE_NAMES:
        for payload in (None, 512, 600, 1232, 4096, 65535):
            check_size(s, label, rdtype, payload, server_payload=size)


# --------------------------------------------------------------------------- OPT presence


def _raw_query(id_, flags=0, qd=1, an=0, ns=0, ar=0, body=None):
    return M.header(id_, flags, qd, an, ns, ar) + (body if body is not None else M.question("www." + ORIGIN, M.T_A))


def test_no_opt_without_edns(server):
    """RFC 6891 7: no OPT in any reply to a query without one, whatever the rcode."""
    cases = {
        "NOERROR": make_query(ORIGIN).to_wire(),
        "NXDOMAIN": make_query("nx." + ORIGIN, "A").to_wire(),
        "NODATA": make_query("www." + ORIGIN, "TXT").to_wire(),
        "REFUSED": make_query("example.invalid.", "A").to_wire(),
        "FORMERR": _raw_query(0x1001, qd=2, body=M.question("www." + ORIGIN, M.T_A) * 2),
        "NOTIMP": _raw_query(0x1002, flags=2 << 11),
        "TC": make_query("huge." + ORIGIN, "TXT").to_wire(),
    }
    for what, wire in cases.items():
        reply = udp(server, wire)
        assert reply is not None, what
        raw = M.parse_message(reply)
        assert raw.opt is None, f"{what}: OPT in the reply to a query without EDNS"
        assert len(reply) <= 512, what


def test_opt_in_every_edns_reply(server):
    """Replies to EDNS queries carry an OPT version 0, whatever the rcode."""
    cases = {
        "NXDOMAIN": make_query("nx." + ORIGIN, "A", edns=0),
        "NODATA": make_query("www." + ORIGIN, "TXT", edns=0),
        "REFUSED": make_query("example.invalid.", "A", edns=0),
        "TC": make_query("huge." + ORIGIN, "TXT", edns=0),
        "NOTIMP": _raw_query(0x2002, flags=2 << 11, ar=1, body=M.question("www." + ORIGIN, M.T_A) + M.opt_rr()),
    }
    for what, q in cases.items():
        wire = q.to_wire() if isinstance(q, dns.message.Message) else q
        raw = M.parse_message(udp(server, wire))
        assert raw.opt is not None, f"{what}: no OPT"
        assert raw.opt[2] == 0 and raw.opt[0] == OUR_PAYLOAD, f"{what}: {raw.opt}"
        if what == "NOTIMP":
            assert raw.rcode == M.NOTIMP


# --------------------------------------------------------------------------- OPT misuse

WWW_Q = M.question("www." + ORIGIN, M.T_A)
OPT_MISUSE = {
    "duplicate-opt": dict(ar=2, body=WWW_Q + M.opt_rr() + M.opt_rr()),
    "duplicate-opt-different": dict(ar=2, body=WWW_Q + M.opt_rr(payload=512) + M.opt_rr(payload=4096, flags=DO)),
    "opt-owner-nonroot": dict(ar=1, body=WWW_Q + M.opt_rr(owner=M.wname(ORIGIN))),
    "opt-owner-one-label": dict(ar=1, body=WWW_Q + M.opt_rr(owner=b"\x01a\x00")),
    "opt-in-answer": dict(an=1, body=WWW_Q + M.opt_rr()),
    "opt-in-authority": dict(ns=1, body=WWW_Q + M.opt_rr()),
    "opt-in-answer-and-additional": dict(an=1, ar=1, body=WWW_Q + M.opt_rr() + M.opt_rr()),
}


@pytest.mark.parametrize("what", list(OPT_MISUSE))
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_opt_misuse_formerr(server, what, transport):
    """RFC 6891 6.1.1: more than one OPT -> FORMERR; an OPT must have the
    root owner and sit in the additional section."""
    wire = _raw_query(0x3300 + list(OPT_MISUSE).index(what), **OPT_MISUSE[what])
    reply = udp(server, wire) if transport == "udp" else tcp(server, wire)
    assert reply is not None, f"{what}: no reply"
    raw = M.parse_message(reply)
    assert raw.id == struct.unpack("!H", wire[:2])[0] and raw.qr
    assert raw.rcode == M.FORMERR, f"{what}: rcode {raw.rcode}, expected FORMERR"
    assert raw.counts[1] == 0, "answer records in a FORMERR"
    if raw.opt is not None:
        assert raw.opt[2] == 0
    if transport == "udp":
        assert len(reply) <= 512

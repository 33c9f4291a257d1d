"""Deterministic generator of malformed (and borderline) DNS query messages.

Used by test_malformed.py (each case carries what a correct authoritative
responder must do with it) and as a seed-corpus writer for the fuzz targets:

    python3 tests/system/malformed.py DIR      # writes one file per case

all_cases() -> [(name, bytes)] is the corpus view; cases() gives the full
Case objects with expectations. Everything is derived from fixed seeds, so the
output is byte-identical on every run.

Expectation tokens (Case.expect is the set of acceptable outcomes):
  DROP        no reply at all (shorter than a header, or QR=1: a response must
              never be answered, RFC 1035 4.1.1 / avoids reflection loops)
  FORMERR, NOTIMP, REFUSED, NOTAUTH, BADVERS
              a reply with exactly that RCODE (BADVERS: extended RCODE 16)
  ANSWER      the same answer as the clean query in Case.ref (rcode, AA, TC,
              answer and authority sections), RD copied
  NODATA      NOERROR, AA, empty answer section
  ANYOK       NOERROR, AA, non-empty answer whose owners are all the qname
              (RFC 8482 allows one RRset or the whole node)
  EMPTYOK     NOERROR with an empty answer section
  GENERIC     for random input: DROP if shorter than 12 bytes or QR=1,
              otherwise any reply that passes the generic checks
Generic checks on every reply: ID echoed, QR=1, opcode echoed, Z=0, an error
RCODE carries no answer records, no OPT if the query had none, and at most
Case.maxlen bytes over UDP.
"""
import os
import random
import struct
import sys
import zlib
from dataclasses import dataclass, field

ORIGIN = "edns.test."

# RR types / classes
T_A, T_NS, T_SOA, T_TXT, T_AAAA, T_OPT = 1, 2, 6, 16, 28, 41
T_RRSIG, T_TKEY, T_TSIG, T_IXFR, T_AXFR, T_MAILB, T_MAILA, T_ANY = 46, 249, 250, 251, 252, 253, 254, 255
C_IN, C_CH, C_NONE, C_ANY = 1, 3, 254, 255

QR, AA, TC, RD, RA, Z, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010

FORMERR, NOTIMP, REFUSED, NOTAUTH, BADVERS = 1, 4, 5, 9, 16
DROP, ANSWER, NODATA, ANYOK, EMPTYOK, GENERIC = "DROP", "ANSWER", "NODATA", "ANYOK", "EMPTYOK", "GENERIC"


@dataclass
class Case:
    name: str
    wire: bytes
    expect: frozenset
    why: str
    # clean equivalent for ANSWER: (qname wire, qtype, qclass, edns payload or None, flags)
    ref: tuple = None
    # the query carries an OPT record (None: unknown, e.g. random bytes)
    has_opt: bool = False
    # the exact question section bytes the reply must echo if it has one
    question: bytes = None
    maxlen: int = 512
    tcp: bool = False
    extra: dict = field(default_factory=dict)


def case_id(name):
    """Deterministic message ID per case (never 0, so it differs from ID-less replies)."""
    return (zlib.crc32(name.encode()) & 0xFFFF) or 1


def wname(name):
    """Text name (absolute or relative to nothing) to uncompressed wire format."""
    if name in (".", ""):
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        b = label.encode()
        assert 0 < len(b) <= 63, name
        out += bytes([len(b)]) + b
    return out + b"\x00"


def header(id_, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", id_, flags, qd, an, ns, ar)


def question(qname=ORIGIN, qtype=T_SOA, qclass=C_IN):
    qn = qname if isinstance(qname, bytes) else wname(qname)
    return qn + struct.pack("!HH", qtype, qclass)


def option(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def opt_rr(payload=1232, ext_rcode=0, version=0, flags=0, options=b"", owner=b"\x00", rdlen=None):
    if rdlen is None:
        rdlen = len(options)
    return owner + struct.pack("!HHBBHH", T_OPT, payload, ext_rcode, version, flags, rdlen) + options


def rr(owner, rtype, rclass, ttl, rdata, rdlen=None):
    ow = owner if isinstance(owner, bytes) else wname(owner)
    if rdlen is None:
        rdlen = len(rdata)
    return ow + struct.pack("!HHIH", rtype, rclass, ttl, rdlen) + rdata


def ref(qname=ORIGIN, qtype=T_SOA, qclass=C_IN, payload=None, flags=0):
    qn = qname if isinstance(qname, bytes) else wname(qname)
    return (qn, qtype, qclass, payload, flags)


def build_ref_query(r, id_):
    """The clean query for a Case.ref tuple."""
    qn, qtype, qclass, payload, flags = r
    msg = header(id_, flags, 1, 0, 0, 1 if payload is not None else 0) + question(qn, qtype, qclass)
    if payload is not None:
        msg += opt_rr(payload)
    return msg


class _Builder:
    def __init__(self):
        self.cases = []
        self.names = set()

    def add(self, name, body, expect, why, *, flags=0, qd=1, an=0, ns=0, ar=0, raw=False, **kw):
        """body: bytes after the header (raw=True: body is the whole message)."""
        assert name not in self.names, name
        self.names.add(name)
        if raw:
            wire = body
        else:
            wire = header(case_id(name), flags, qd, an, ns, ar) + body
        if isinstance(expect, (str, int)):
            expect = {expect}
        self.cases.append(Case(name, wire, frozenset(expect), why, **kw))


def _valid(id_, qname="www." + ORIGIN, qtype=T_A, edns=False, flags=0):
    q = question(qname, qtype)
    msg = header(id_, flags, 1, 0, 0, 1 if edns else 0) + q
    if edns:
        msg += opt_rr(1232)
    return msg, q


def cases(origin=ORIGIN):
    assert origin == ORIGIN, "cases are built for the edns.test. test zone"
    b = _Builder()
    apex_q = question(ORIGIN, T_SOA)
    www = "www." + ORIGIN
    www_q = question(www, T_A)

    # --- truncated header: 0..11 bytes -------------------------------------
    base, _ = _valid(case_id("short"), www)
    for n in range(12):
        b.add(f"short-header-{n:02d}", base[:n], DROP,
              "shorter than the 12-byte header: no ID to answer, must be dropped",
              raw=True, tcp=n in (0, 1, 5, 11))

    # --- QR=1: responses are never answered --------------------------------
    b.add("qr-valid-question", www_q, DROP, "QR=1: a response, must not be answered", flags=QR, tcp=True)
    b.add("qr-header-only", b"", DROP, "QR=1 header only", flags=QR, qd=0)
    b.add("qr-formerr-response", b"", DROP, "QR=1 FORMERR reply: answering it would loop",
          flags=QR | FORMERR, qd=0)
    b.add("qr-full-response", www_q + rr(b"\xc0\x0c", T_A, C_IN, 300, bytes([192, 0, 2, 1])), DROP,
          "QR=1 AA answer", flags=QR | AA, an=1)
    b.add("qr-opcode-update", apex_q, DROP, "QR=1 opcode 5", flags=QR | (5 << 11))
    b.add("qr-opcode-notify", apex_q, DROP, "QR=1 opcode 4 (NOTIFY response)", flags=QR | AA | (4 << 11))
    b.add("qr-edns", www_q + opt_rr(), DROP, "QR=1 with OPT", flags=QR, ar=1, has_opt=True)
    b.add("qr-pointer-loop", b"\xc0\x0c" + struct.pack("!HH", T_A, C_IN), DROP,
          "QR=1 with a malformed body: still dropped, not FORMERR", flags=QR)
    b.add("qr-tc-truncated", b"\x03ww", DROP, "QR=1 with a truncated question", flags=QR | TC)

    # --- truncated question -------------------------------------------------
    full, q = _valid(case_id("trunc-q"), www)
    for n in range(12, len(full)):
        b.add(f"trunc-question-{n:02d}", full[:n], FORMERR,
              f"qdcount=1 but the message ends {len(full) - n} bytes into/before the question",
              raw=True, tcp=n in (12, 20, len(full) - 1))

    # --- truncated OPT / additional RDATA -----------------------------------
    opts = option(100, b"\x01\x02\x03\x04")
    opt = opt_rr(1232, options=opts)
    full = header(case_id("trunc-opt"), 0, 1, 0, 0, 1) + www_q + opt
    start = len(full) - len(opt)
    for k in range(len(opt)):
        b.add(f"trunc-opt-{k:02d}", full[:start + k], FORMERR,
              f"arcount=1 but the OPT record is cut after {k} of {len(opt)} bytes",
              raw=True, has_opt=k > 0, tcp=k in (0, 11, len(opt) - 1))
    b.add("trunc-additional-a-rdata", www_q + rr(www, T_A, C_IN, 60, b"\x01\x02", rdlen=4),
          FORMERR, "additional A record claims 4 bytes of RDATA, has 2", ar=1)
    b.add("trunc-additional-after-opt", www_q + opt_rr() + rr(b"\xc0\x0c", T_A, C_IN, 60, b"\x01", rdlen=4),
          FORMERR, "OPT then a truncated A record", ar=2, has_opt=True)
    b.add("trunc-additional-rr-header", www_q + b"\xc0\x0c\x00\x01\x00", FORMERR,
          "additional record cut inside its fixed fields", ar=1)

    # --- compression pointers ------------------------------------------------
    tc = struct.pack("!HH", T_A, C_IN)
    b.add("ptr-self", b"\xc0\x0c" + tc, FORMERR, "qname is a pointer to itself (offset 12)", tcp=True)
    b.add("ptr-label-then-self", b"\x01a\xc0\x0e" + tc, FORMERR, "label then a pointer to that pointer")
    b.add("ptr-backward-loop", b"\x01a\xc0\x0c" + tc, FORMERR,
          "label then a pointer back to the start of the name: infinite name a.a.a...")
    b.add("ptr-two-loop", b"\xc0\x0e\xc0\x0c" + tc, FORMERR, "two pointers pointing at each other", tcp=True)
    b.add("ptr-three-loop", b"\xc0\x0e\xc0\x10\xc0\x0c" + tc, FORMERR, "three-pointer cycle")
    b.add("ptr-growing-loop", b"\x3f" + b"a" * 63 + b"\xc0\x0c" + tc, FORMERR,
          "63-byte label + pointer to itself: name grows past 255 on every turn")
    b.add("ptr-via-header-loop", b"\xc0\x00" + tc, FORMERR,
          "qname points at offset 0, whose ID bytes C0 0C point back at the qname",
          raw=False, extra={"id": 0xC00C})
    b.add("ptr-forward-valid-name", b"\xc0\x12" + tc + wname(ORIGIN), FORMERR,
          "forward pointer (to a valid name after the question): RFC 1035 4.1.4 allows only prior occurrences")
    b.add("ptr-forward-into-own-labels", b"\xc0\x0e\x04edns\x04test\x00" + tc, FORMERR,
          "pointer to the bytes right after itself (forward)")
    b.add("ptr-out-of-message-ff", b"\xc0\xff" + tc, FORMERR, "pointer to offset 255, past the end")
    b.add("ptr-out-of-message-3fff", b"\xff\xff" + tc, FORMERR, "pointer to offset 16383, past the end")
    b.add("ptr-to-end", b"\xc0\x12" + tc, FORMERR, "pointer to exactly the end of the message")
    b.add("ptr-truncated", b"\x03www\xc0", FORMERR, "a pointer's first byte is the last byte of the message")
    b.add("ptr-header-root", b"\xc0\x04" + struct.pack("!HH", T_SOA, C_IN), {FORMERR, REFUSED},
          "backward pointer into the header (qdcount high byte 0 = root): FORMERR, or the root name "
          "which is outside every zone: REFUSED")
    b.add("ptr-opt-owner-qname", www_q + opt_rr(owner=b"\xc0\x0c"), FORMERR,
          "OPT owner compressed to the (non-root) qname", ar=1, has_opt=True, maxlen=1232)
    b.add("ptr-opt-owner-self-loop", www_q + opt_rr(owner=b"\xc0\x1f"), FORMERR,
          "OPT owner is a pointer to itself", ar=1, has_opt=True, maxlen=1232)
    qroot = len(www_q) - 4 + 12 - 1  # offset of the qname's final zero byte
    b.add("ptr-opt-owner-to-root", www_q + opt_rr(owner=bytes([0xC0, qroot])), {FORMERR, ANSWER},
          "OPT owner is a valid backward pointer to a root label: the owner is root",
          ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("ptr-additional-owner-loop", www_q + rr(b"\xc0\x1f", T_A, C_IN, 60, b"\x01\x02\x03\x04"),
          FORMERR, "additional A record whose owner points to itself", ar=1)
    long_qn = b"".join(b"\x3f" + bytes([0x61 + i]) * 63 for i in range(3)) + b"\x3c" + b"d" * 60 + b"\x00"
    assert len(long_qn) == 254
    lq = question(long_qn, T_A)
    b.add("ptr-name-over-255-via-pointer", lq + rr(b"\x05extra\xc0\x0c", T_A, C_IN, 60, b"\x01\x02\x03\x04"),
          {FORMERR}, "additional owner = 6-byte label + pointer to a 254-byte qname: 260 bytes", ar=1)
    b.add("ptr-valid-backward-additional", www_q + rr(b"\x03foo\xc0\x0c", T_A, C_IN, 60, b"\x01\x02\x03\x04"),
          {FORMERR, ANSWER}, "a well-formed extra additional record with a backward pointer",
          ar=1, ref=ref(www, T_A))

    # --- label types -------------------------------------------------------
    for t in (0x40, 0x41, 0x42, 0x43, 0x5f, 0x60, 0x7e, 0x7f, 0x80, 0x81, 0xa0, 0xbf):
        ln = (t & 0x3F) + 64 if t < 0x80 else 8
        b.add(f"label-type-{t:02x}", bytes([t]) + b"a" * ln + wname(ORIGIN) + tc, FORMERR,
              f"label byte 0x{t:02x}: length > 63 / reserved or extended label type (RFC 6891 5)",
              tcp=t in (0x40, 0x80))
    b.add("label-ext-bitstring", b"\x41\x08\xff" + wname(ORIGIN) + tc, FORMERR,
          "RFC 2673 bitstring label (0x41), deprecated")
    b.add("label-63-in-zone", question(b"\x3f" + b"m" * 63 + wname(ORIGIN), T_A), ANSWER,
          "63-byte label is legal: NXDOMAIN from the zone", ref=ref(b"\x3f" + b"m" * 63 + wname(ORIGIN), T_A))
    binq = b"\x04\x00\xff.\x5c" + wname(ORIGIN)
    b.add("label-binary-in-zone", question(binq, T_A), ANSWER,
          "binary label (zero byte, 0xff, dot, backslash) is legal: NXDOMAIN", ref=ref(binq, T_A))
    mixed = b"\x04EdNs\x04TeSt\x00"
    b.add("label-mixed-case-apex", question(mixed, T_SOA), ANSWER,
          "mixed-case qname: same answer, question echoed byte for byte (0x20)",
          ref=ref(mixed, T_SOA), question=question(mixed, T_SOA))

    # --- name length ---------------------------------------------------------
    def name_of_len(total, suffix):
        """Wire name of exactly total bytes ending in suffix (wire)."""
        out = b""
        left = total - len(suffix)
        while left > 0:
            n = min(63, left - 1)
            if left - (n + 1) == 1:  # would leave 1 byte: no room for a label
                n -= 1
            out += bytes([n]) + b"n" * n
            left -= n + 1
        assert len(out + suffix) == total
        return out + suffix

    n255 = name_of_len(255, wname(ORIGIN))
    b.add("name-255-in-zone", question(n255, T_A), ANSWER, "255-byte name is legal: NXDOMAIN",
          ref=ref(n255, T_A))
    n255o = name_of_len(255, wname("other.invalid."))
    b.add("name-255-outside", question(n255o, T_A), ANSWER, "255-byte name outside the zones: REFUSED",
          ref=ref(n255o, T_A))
    n255s = b"\x01s" * 122 + wname(ORIGIN)
    assert len(n255s) == 255
    b.add("name-255-122-labels", question(n255s, T_A), ANSWER, "124 labels, 255 bytes: legal",
          ref=ref(n255s, T_A))
    b.add("name-256", question(name_of_len(256, wname(ORIGIN)), T_A), FORMERR, "256-byte name", tcp=True)
    b.add("name-257", question(name_of_len(257, wname(ORIGIN)), T_A), FORMERR, "257-byte name")
    b.add("name-257-1byte-labels", b"\x01s" * 128 + b"\x00" + tc, FORMERR, "128 one-byte labels: 257 bytes")
    b.add("name-513", (b"\x3f" + b"z" * 63) * 8 + b"\x00" + tc, FORMERR, "8 x 63-byte labels: 513 bytes")
    b.add("name-no-terminator", b"\x03www" * 70, FORMERR, "labels run to the end of the message, no root")

    # --- counts -------------------------------------------------------------
    b.add("count-qd0-empty", b"", FORMERR, "qdcount=0, nothing else (RFC 7873 5.4: FORMERR without COOKIE)",
          qd=0)
    b.add("count-qd0-question-follows", www_q, FORMERR, "qdcount=0 with a question after the header", qd=0)
    b.add("count-qd0-opt", opt_rr(), FORMERR, "qdcount=0, only an OPT (no COOKIE)", qd=0, ar=1,
          has_opt=True, maxlen=1232)
    b.add("count-qd0-cookie", opt_rr(options=option(10, b"\x11" * 8)), {FORMERR, EMPTYOK},
          "qdcount=0 with a client COOKIE: NOERROR if cookies are implemented (RFC 7873 5.4), else FORMERR",
          qd=0, ar=1, has_opt=True, maxlen=1232)
    b.add("count-qd2-same", www_q + www_q, FORMERR, "two identical questions", qd=2, tcp=True)
    b.add("count-qd2-different", www_q + apex_q, FORMERR, "two different questions", qd=2)
    b.add("count-qd2-one-present", www_q, FORMERR, "qdcount=2, one question present", qd=2)
    b.add("count-qd65535", www_q, FORMERR, "qdcount=65535", qd=65535)
    b.add("count-an1-empty", www_q, FORMERR, "ancount=1, no answer record", an=1)
    b.add("count-an65535", www_q, FORMERR, "ancount=65535", an=65535)
    b.add("count-ns1-empty", www_q, FORMERR, "nscount=1, no record", ns=1)
    b.add("count-ns65535", www_q, FORMERR, "nscount=65535", ns=65535)
    b.add("count-ar1-empty", www_q, FORMERR, "arcount=1, no record", ar=1)
    b.add("count-ar2-one-opt", www_q + opt_rr(), FORMERR, "arcount=2, one OPT present", ar=2,
          has_opt=True, maxlen=1232)
    b.add("count-ar65535", www_q + opt_rr(), FORMERR, "arcount=65535", ar=65535, has_opt=True, maxlen=1232)
    b.add("count-all-ffff", www_q, FORMERR, "every count 65535", qd=65535, an=65535, ns=65535, ar=65535)
    b.add("count-an1-valid-record", www_q + rr(b"\xc0\x0c", T_A, C_IN, 60, b"\x01\x02\x03\x04"),
          {FORMERR, ANSWER}, "a query carrying a well-formed answer record", an=1, ref=ref(www, T_A))
    b.add("count-ns1-valid-record", www_q + rr(b"\xc0\x0c", T_A, C_IN, 60, b"\x01\x02\x03\x04"),
          {FORMERR, ANSWER}, "a query carrying a well-formed authority record", ns=1, ref=ref(www, T_A))
    b.add("count-lower-than-content", www_q + apex_q, {FORMERR, ANSWER},
          "qdcount=1 but two questions: the second is trailing data", ref=ref(www, T_A))

    # --- OPT placement and content -------------------------------------------
    b.add("opt-duplicate", www_q + opt_rr() + opt_rr(), FORMERR, "two OPT records (RFC 6891 6.1.1 MUST FORMERR)",
          ar=2, has_opt=True, maxlen=1232, tcp=True)
    b.add("opt-duplicate-versions", www_q + opt_rr() + opt_rr(version=1), FORMERR, "two OPTs, versions 0 and 1",
          ar=2, has_opt=True, maxlen=1232)
    b.add("opt-in-answer", www_q + opt_rr(), FORMERR, "OPT in the answer section", an=1, has_opt=True,
          maxlen=1232)
    b.add("opt-in-authority", www_q + opt_rr(), FORMERR, "OPT in the authority section", ns=1, has_opt=True,
          maxlen=1232)
    b.add("opt-in-answer-and-additional", www_q + opt_rr() + opt_rr(), FORMERR,
          "OPT in the answer and in the additional section", an=1, ar=1, has_opt=True, maxlen=1232)
    b.add("opt-owner-nonroot", www_q + opt_rr(owner=wname(ORIGIN)), FORMERR, "OPT owner is not the root",
          ar=1, has_opt=True, maxlen=1232)
    b.add("opt-rdlen-overrun", www_q + opt_rr(rdlen=10), FORMERR, "OPT rdlength 10, no RDATA", ar=1,
          has_opt=True, maxlen=1232)
    b.add("opt-rdlen-overrun-partial", www_q + opt_rr(options=option(100, b"ab"), rdlen=12), FORMERR,
          "OPT rdlength 12, 6 bytes present", ar=1, has_opt=True, maxlen=1232)
    b.add("opt-option-len-overrun", www_q + opt_rr(options=struct.pack("!HH", 100, 10), rdlen=4), FORMERR,
          "option claims 10 bytes, OPT RDATA ends after its header", ar=1, has_opt=True, maxlen=1232)
    b.add("opt-option-len-overrun-next", www_q + opt_rr(options=struct.pack("!HH", 100, 6) + b"abcd"), FORMERR,
          "option claims 6 bytes, RDATA holds 4", ar=1, has_opt=True, maxlen=1232)
    b.add("opt-option-header-3", www_q + opt_rr(options=b"\x00\x64\x00"), FORMERR,
          "OPT RDATA of 3 bytes: truncated option header", ar=1, has_opt=True, maxlen=1232)
    b.add("opt-option-header-1", www_q + opt_rr(options=b"\x00"), FORMERR,
          "OPT RDATA of 1 byte", ar=1, has_opt=True, maxlen=1232)
    b.add("opt-then-record", www_q + opt_rr() + rr(b"\xc0\x0c", T_A, C_IN, 60, b"\x01\x02\x03\x04"),
          {FORMERR, ANSWER}, "OPT followed by another additional record (OPT need not be last)",
          ar=2, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-payload-0", www_q + opt_rr(payload=0), ANSWER, "payload 0 is treated as 512 (RFC 6891 6.2.5)",
          ar=1, has_opt=True, ref=ref(www, T_A, payload=512))
    b.add("opt-payload-1", www_q + opt_rr(payload=1), ANSWER, "payload 1 is treated as 512",
          ar=1, has_opt=True, ref=ref(www, T_A, payload=512))
    b.add("opt-ext-rcode-in-query", www_q + opt_rr(ext_rcode=0xFF), ANSWER,
          "extended RCODE bits set in a query: ignored", ar=1, has_opt=True, maxlen=1232,
          ref=ref(www, T_A, payload=1232))
    b.add("opt-all-flags", www_q + opt_rr(flags=0xFFFF), ANSWER, "DO and all Z flags: normal answer",
          ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-version-1", apex_q + opt_rr(version=1), BADVERS, "EDNS version 1: BADVERS (RFC 6891 6.1.3)",
          ar=1, has_opt=True, maxlen=1232)
    b.add("opt-version-255", apex_q + opt_rr(version=255), BADVERS, "EDNS version 255: BADVERS",
          ar=1, has_opt=True, maxlen=1232)
    b.add("opt-version-1-bad-option", apex_q + opt_rr(version=1, options=struct.pack("!HH", 100, 10), rdlen=4),
          {FORMERR, BADVERS}, "version 1 and a malformed option", ar=1, has_opt=True, maxlen=1232)
    b.add("opt-cookie-short", www_q + opt_rr(options=option(10, b"\x22" * 7)), {FORMERR, ANSWER},
          "7-byte client COOKIE: FORMERR if cookies are implemented (RFC 7873 5.2.2), else ignored",
          ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-cookie-long", www_q + opt_rr(options=option(10, b"\x33" * 41)), {FORMERR, ANSWER},
          "41-byte COOKIE", ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-cookie-ok", www_q + opt_rr(options=option(10, b"\x44" * 8)), ANSWER,
          "valid client COOKIE", ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-many-options", www_q + opt_rr(options=b"".join(option(200 + i, b"x" * (i % 5)) for i in range(60))),
          ANSWER, "60 unknown options", ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-padding-400", www_q + opt_rr(options=option(12, b"\x00" * 400)), ANSWER,
          "400-byte padding option", ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-nsid-request", www_q + opt_rr(options=option(3)), ANSWER, "NSID request",
          ar=1, has_opt=True, maxlen=1232, ref=ref(www, T_A, payload=1232))
    b.add("opt-trailing-garbage", www_q + opt_rr() + b"\xde\xad\xbe\xef", {FORMERR, ANSWER},
          "OPT then 4 bytes beyond the counted records", ar=1, has_opt=True, maxlen=1232,
          ref=ref(www, T_A, payload=1232))
    tsig = rr(b"\x03key\x00", T_TSIG, C_ANY, 0,
              wname("hmac-sha256.") + b"\x00\x00\x65\x00\x00\x00\x01\x2c\x00\x20" + b"\x55" * 32
              + struct.pack("!HHH", 0, 0, 0))
    b.add("tsig-unknown-key", www_q + tsig, {NOTAUTH, FORMERR, REFUSED, NOTIMP},
          "TSIG with an unknown key: NOTAUTH/BADKEY (RFC 8945 5.2.2) or refused", ar=1)
    b.add("tsig-not-last", www_q + tsig + opt_rr(), {NOTAUTH, FORMERR, REFUSED, NOTIMP},
          "TSIG not the last record: FORMERR (RFC 8945 5.1)", ar=2, has_opt=True, maxlen=1232)

    # --- header flags ----------------------------------------------------------
    for nm, fl, exp, why in (
        ("flag-rd", RD, ANSWER, "RD=1: answered, RD copied"),
        ("flag-cd", CD, ANSWER, "CD=1: answered (CD copy is for security-aware servers, not checked)"),
        ("flag-ad", AD, ANSWER, "AD=1 in a query is a signal only"),
        ("flag-z", Z, ANSWER, "Z=1 in a query: answered, Z=0 in the reply"),
        ("flag-ra", RA, ANSWER, "RA=1 in a query is meaningless"),
        ("flag-aa", AA, ANSWER, "AA=1 in a query is meaningless"),
        ("flag-tc", TC, {ANSWER, FORMERR}, "TC=1 in a query"),
        ("flag-rcode-3", 3, {ANSWER, FORMERR}, "RCODE=3 in a query"),
        ("flag-all", AA | TC | RD | RA | Z | AD | CD | 0xF, {ANSWER, FORMERR}, "every header flag and RCODE 15"),
    ):
        b.add(nm, www_q, exp, why, flags=fl, ref=ref(www, T_A, flags=fl & (RD | CD)))

    # --- opcodes ------------------------------------------------------------------
    for op in range(1, 16):
        exp = {NOTIMP}
        why = f"opcode {op}: not implemented"
        if op == 4:
            exp = {NOTIMP, REFUSED, NOTAUTH}
            why = "NOTIFY to a server with no primaries configured"
        elif op == 5:
            exp = {NOTIMP, REFUSED, NOTAUTH}
            why = "UPDATE: no dynamic updates over DNS (NOTAUTH as Knot does is fine)"
        elif op == 6:
            exp = {NOTIMP, FORMERR}
            why = "DSO (RFC 8490) over UDP / not implemented"
        b.add(f"opcode-{op:02d}", apex_q, exp, why, flags=op << 11, tcp=op in (2, 5))
    b.add("opcode-01-iquery-format", rr(b"\x00", T_A, C_IN, 0, b"\x01\x02\x03\x04"), {NOTIMP, FORMERR},
          "IQUERY in its RFC 1035 form (qdcount 0, one answer)", flags=1 << 11, qd=0, an=1)
    b.add("opcode-15-edns", apex_q + opt_rr(), {NOTIMP}, "opcode 15 with EDNS", flags=15 << 11, ar=1,
          has_opt=True, maxlen=1232)
    b.add("opcode-02-pointer-loop", b"\xc0\x0c" + tc, {NOTIMP, FORMERR}, "opcode 2 and a malformed question",
          flags=2 << 11)
    b.add("opcode-05-qd0", b"", {NOTIMP, FORMERR, REFUSED}, "UPDATE with an empty zone section", flags=5 << 11, qd=0)

    # --- meta and odd qtypes ----------------------------------------------------------
    meta_refuse = {FORMERR, NOTIMP, REFUSED}
    for nm, qt, exp, why, tcp in (
        ("qtype-axfr", T_AXFR, meta_refuse | {NOTAUTH}, "AXFR over UDP (RFC 5936 4.2: TCP only); no zone transfer here", True),
        ("qtype-ixfr", T_IXFR, meta_refuse | {NOTAUTH}, "IXFR without the client's SOA in authority", False),
        ("qtype-maila", T_MAILA, meta_refuse | {NODATA}, "MAILA (obsolete meta type)", False),
        ("qtype-mailb", T_MAILB, meta_refuse | {NODATA}, "MAILB (obsolete meta type)", False),
        ("qtype-any", T_ANY, {ANYOK, NOTIMP, REFUSED}, "ANY: one RRset / HINFO / all (RFC 8482)", True),
        ("qtype-opt", T_OPT, meta_refuse | {NODATA}, "OPT is a pseudo type (BIND: FORMERR, Knot: NODATA)", False),
        ("qtype-tsig", T_TSIG, meta_refuse | {NODATA}, "TSIG as qtype (meta)", False),
        ("qtype-tkey", T_TKEY, meta_refuse | {NODATA}, "TKEY as qtype (meta)", False),
        ("qtype-0", 0, meta_refuse | {NODATA}, "reserved type 0", False),
        ("qtype-128-meta", 128, meta_refuse | {NODATA}, "unassigned meta range 128-255", False),
        ("qtype-65535", 65535, {NODATA}, "reserved data type 65535: no data at the apex", False),
        ("qtype-65280-private", 65280, {NODATA}, "private-use data type: no data", False),
        ("qtype-rrsig-unsigned", T_RRSIG, {NODATA}, "RRSIG in an unsigned zone: no data", False),
    ):
        b.add(nm, question(ORIGIN, qt), exp, why, tcp=tcp)
    b.add("qtype-axfr-outside", question("other.invalid.", T_AXFR), meta_refuse | {NOTAUTH}, "AXFR for a zone not served")

    # --- classes -----------------------------------------------------------------
    for nm, qc, exp, why in (
        ("class-0", 0, {FORMERR, REFUSED, NOTIMP}, "class 0 (reserved)"),
        ("class-cs", 2, {REFUSED, NOTIMP}, "class CSNET: no zone"),
        ("class-ch", C_CH, {REFUSED, NOTIMP}, "class CHAOS: no zone"),
        ("class-hs", 4, {REFUSED, NOTIMP}, "class HESIOD: no zone"),
        ("class-none", C_NONE, {FORMERR, REFUSED, NOTIMP}, "class NONE is for UPDATE only"),
        ("class-any", C_ANY, {ANSWER, REFUSED, NOTIMP}, "QCLASS * : the IN data or refused"),
        ("class-65535", 65535, {FORMERR, REFUSED, NOTIMP}, "class 65535 (reserved)"),
    ):
        b.add(nm, question(ORIGIN, T_SOA, qc), exp, why, ref=ref(ORIGIN, T_SOA))

    # --- trailing garbage --------------------------------------------------------------
    rnd = random.Random(0x5153)
    b.add("trailing-1-zero", www_q + b"\x00", {FORMERR, ANSWER}, "one zero byte after the question",
          ref=ref(www, T_A), tcp=True)
    b.add("trailing-100-random", www_q + bytes(rnd.randrange(256) for _ in range(100)), {FORMERR, ANSWER},
          "100 random bytes after the question", ref=ref(www, T_A))
    b.add("trailing-second-message", www_q + header(7) + apex_q, {FORMERR, ANSWER},
          "a second whole message after the first", ref=ref(www, T_A))

    # --- random input (seeded) --------------------------------------------------------------
    rnd = random.Random(20240531)
    for i in range(40):
        n = rnd.choice([rnd.randrange(0, 12), rnd.randrange(12, 64), rnd.randrange(64, 700)])
        data = bytes(rnd.randrange(256) for _ in range(n))
        b.add(f"random-bytes-{i:02d}", data, GENERIC, "seeded random bytes", raw=True, has_opt=None)
    for i in range(25):
        n = rnd.randrange(0, 300)
        body = bytes(rnd.randrange(256) for _ in range(n))
        b.add(f"random-body-{i:02d}", body, GENERIC, "valid query header, random body",
              qd=rnd.choice([1, 1, 1, 2]), ar=rnd.choice([0, 1]), has_opt=None)
    clean = header(0x4242, RD, 1, 0, 0, 1) + www_q + opt_rr(options=option(100, b"abcd"))
    for i in range(40):
        m = bytearray(clean)
        for _ in range(rnd.randrange(1, 5)):
            pos = rnd.randrange(2, len(m))  # keep the ID
            m[pos] ^= 1 << rnd.randrange(8)
        b.add(f"random-bitflip-{i:02d}", bytes(m), GENERIC, "1-4 random bit flips in a valid EDNS query",
              raw=True, has_opt=None, maxlen=1232)
    for i in range(10):
        labels = b""
        for _ in range(rnd.randrange(1, 4)):
            ln = rnd.randrange(1, 20)
            labels += bytes([ln]) + bytes(rnd.randrange(256) for _ in range(ln))
        qn = labels + wname(ORIGIN)
        b.add(f"random-binary-qname-{i:02d}", question(qn, T_A), ANSWER, "random binary labels under the zone",
              ref=ref(qn, T_A))

    out = b.cases
    for c in out:
        if "id" in c.extra:  # cases that need a specific ID
            c.wire = struct.pack("!H", c.extra["id"]) + c.wire[2:]
        if c.question is None and c.expect & {ANSWER, ANYOK, NODATA} and len(c.wire) >= 12:
            # the question must be echoed byte for byte
            c.question = _question_bytes(c.wire)
    return out


def _question_bytes(wire):
    """Raw question section of a message with qdcount 1 and an uncompressed qname."""
    i = 12
    while i < len(wire) and wire[i] != 0:
        i += 1 + wire[i]
    return wire[12:i + 5]


class ParseError(Exception):
    pass


def _read_name(wire, i):
    """Returns (lowercase uncompressed wire name, offset after it). Strict:
    backward pointers only, <= 255 bytes, no extended labels."""
    out = b""
    end = None
    hops = 0
    while True:
        if i >= len(wire):
            raise ParseError("name runs past the end")
        c = wire[i]
        if c >= 0xC0:
            if i + 1 >= len(wire):
                raise ParseError("truncated pointer")
            ptr = ((c & 0x3F) << 8) | wire[i + 1]
            if ptr >= i:
                raise ParseError(f"non-backward pointer {ptr} at {i}")
            if end is None:
                end = i + 2
            i = ptr
            hops += 1
            if hops > 127:
                raise ParseError("pointer chain too long")
            continue
        if c >= 0x40:
            raise ParseError(f"bad label type 0x{c:02x}")
        if i + 1 + c > len(wire):
            raise ParseError("label runs past the end")
        out += wire[i:i + 1 + c].lower()
        i += 1 + c
        if len(out) > 255:
            raise ParseError("name longer than 255")
        if c == 0:
            return out, (end if end is not None else i)


@dataclass
class Msg:
    id: int
    flags: int
    counts: tuple
    question: bytes  # raw question section bytes (may be empty)
    qname: bytes
    sections: list  # [answer, authority, additional]: lists of (owner, type, class, ttl, rdata_raw)
    opt: tuple = None  # (payload, ext_rcode, version, flags, options[(code, data)]) or None
    n_opt: int = 0

    @property
    def qr(self):
        return bool(self.flags & QR)

    @property
    def opcode(self):
        return (self.flags >> 11) & 0xF

    @property
    def rcode(self):
        return (self.flags & 0xF) | ((self.opt[1] << 4) if self.opt else 0)


def parse_message(wire):
    """Strict parse of a DNS message (a reply from the server under test)."""
    if len(wire) < 12:
        raise ParseError(f"{len(wire)} bytes: shorter than a header")
    id_, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", wire[:12])
    i = 12
    qname = b""
    for _ in range(qd):
        qname, i = _read_name(wire, i)
        if i + 4 > len(wire):
            raise ParseError("truncated question")
        i += 4
    question_raw = wire[12:i]
    sections = [[], [], []]
    opt = None
    n_opt = 0
    for s, n in enumerate((an, ns, ar)):
        for _ in range(n):
            owner, i = _read_name(wire, i)
            if i + 10 > len(wire):
                raise ParseError("truncated RR header")
            rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", wire[i:i + 10])
            i += 10
            if i + rdlen > len(wire):
                raise ParseError("truncated RDATA")
            rdata = wire[i:i + rdlen]
            i += rdlen
            if rtype == T_OPT:
                n_opt += 1
                if s != 2:
                    raise ParseError("OPT outside the additional section")
                if owner != b"\x00":
                    raise ParseError("OPT owner not root")
                options = []
                j = 0
                while j < len(rdata):
                    if j + 4 > len(rdata):
                        raise ParseError("truncated EDNS option")
                    code, olen = struct.unpack("!HH", rdata[j:j + 4])
                    if j + 4 + olen > len(rdata):
                        raise ParseError("EDNS option overruns OPT")
                    options.append((code, rdata[j + 4:j + 4 + olen]))
                    j += 4 + olen
                opt = (rclass, ttl >> 24, (ttl >> 16) & 0xFF, ttl & 0xFFFF, options)
            sections[s].append((owner, rtype, rclass, ttl, rdata))
    if i != len(wire):
        raise ParseError(f"{len(wire) - i} trailing bytes")
    if n_opt > 1:
        raise ParseError("more than one OPT")
    return Msg(id_, flags, (qd, an, ns, ar), question_raw, qname, sections, opt, n_opt)


def all_cases():
    """[(name, bytes)] for seed corpora."""
    return [(c.name, c.wire) for c in cases()]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(f"usage: {argv[0]} OUTDIR\n")
        return 2
    os.makedirs(argv[1], exist_ok=True)
    for name, wire in all_cases():
        with open(os.path.join(argv[1], name), "wb") as f:
            f.write(wire)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

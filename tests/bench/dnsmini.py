"""Just enough DNS (stdlib only) for readiness polls and answer sanity checks."""
import random
import socket
import struct

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
TYPE_NAMES = {v: k for k, v in TYPES.items()}


def build_query(qname, qtype, qid=None):
    qid = random.getrandbits(16) if qid is None else qid
    wire = b"".join(bytes([len(lab)]) + lab.encode() for lab in qname.rstrip(".").split(".") if lab) + b"\0"
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + wire + struct.pack("!HH", TYPES[qtype], 1)


def _skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def parse(msg):
    """-> dict(rcode, aa, tc, answer=[type names in order], counts=(an, ns, ar))."""
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = _skip_name(msg, off) + 4
    answer = []
    for _ in range(an):
        off = _skip_name(msg, off)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10 + rdlen
        answer.append(TYPE_NAMES.get(rtype, str(rtype)))
    return {"id": qid, "rcode": flags & 0xF, "aa": bool(flags & 0x400), "tc": bool(flags & 0x200),
            "answer": answer, "counts": (an, ns, ar)}


def query(host, port, qname, qtype, timeout=0.5):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        q = build_query(qname, qtype)
        s.sendto(q, (host, port))
        while True:
            data, _ = s.recvfrom(65535)
            if data[:2] == q[:2]:
                return parse(data)


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host (best effort)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.bind((host, 0))
        port = t.getsockname()[1]
        u = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            u.bind((host, port))
        except OSError:
            t.close()
            continue
        finally:
            u.close()
        t.close()
        return port
    raise RuntimeError("no free port")

"""Abuse of the DNS side (issue 11): TCP slots held with zero-length frames,
response rate limiting against amplification (with Knot configured the same
way, side by side), CHAOS TXT identity queries. Every server is a real
process on 127.0.0.x; every load is bounded in count and time."""
import os
import socket
import struct
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from q53d import Q53d, free_port

SOA_NS = """$TTL 300
@ IN SOA ns1.{o}. hostmaster.{o}. 1 3600 600 86400 300
@ IN NS ns1.{o}.
ns1 IN A 192.0.2.1
www IN A 192.0.2.10
"""


def write_zone(path, origin="example.com", extra=""):
    with open(path, "w") as f:
        f.write(f"$ORIGIN {origin}.\n")
        f.write(SOA_NS.format(o=origin))
        f.write(extra)
    return str(path)


def tcp_query(host, port, qname, src, timeout=1.0):
    """One query over a fresh TCP connection from src; the answer, or None
    when the server closes the connection or does not answer in time."""
    q = dns.message.make_query(qname, "A")
    wire = q.to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect((host, port))
        s.sendall(struct.pack("!H", len(wire)) + wire)
        head = b""
        while len(head) < 2:
            b = s.recv(2 - len(head))
            if not b:
                return None
            head += b
        (n,) = struct.unpack("!H", head)
        body = b""
        while len(body) < n:
            b = s.recv(n - len(body))
            if not b:
                return None
            body += b
        return dns.message.from_wire(body)
    except OSError:
        return None
    finally:
        s.close()


# --- TCP: zero-length frames must not keep a connection alive ---


def established(port):
    out = subprocess.run(["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len(out.splitlines())

ATTACK_SOURCES = 16  # 127.0.1.1 .. 127.0.1.16
PER_SOURCE = 64  # q53d's default --tcp-max-per-client; 16 x 64 = 1024 total
IDLE_MS = 10000  # q53d's default --tcp-idle-timeout


def test_tcp_zero_length_frames_do_not_hold_slots(q53d_factory, tmp_path):
    """16 sources fill the default TCP limits (1024 connections) and send
    `00 00` on each every 2 s. A legitimate client from another /24 must be
    answered once the idle timeout has passed (today the frames reset the
    deadline and TCP stays locked for everyone)."""
    zone = write_zone(tmp_path / "example.com.zone")
    srv = q53d_factory([("example.com", zone)])
    conns = []
    stop = threading.Event()

    def attack():
        """Opens the 1024 connections, one zero-length frame each, and polls
        until a legitimate query finds the limits full. False when they
        never filled (seen once on the loaded shared box, cause unknown:
        diagnostics below), after closing the connections."""
        for a in range(1, ATTACK_SOURCES + 1):
            for _ in range(PER_SOURCE):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind((f"127.0.1.{a}", 0))
                s.connect((srv.host, srv.port))
                conns.append(s)
        for s in conns:
            s.sendall(b"\x00\x00")
        deadline = time.monotonic() + 5
        while tcp_query(srv.host, srv.port, "www.example.com.", "127.0.2.1") is not None:
            if time.monotonic() > deadline:
                diag.append(f"established {established(srv.port)}; listeners: "
                            + subprocess.run(["ss", "-tlnp", f"( sport = :{srv.port} )"],
                                             capture_output=True, text=True).stdout)
                for s in conns:
                    s.close()
                conns.clear()
                return False
            time.sleep(0.1)
        return True

    diag = []
    try:
        filled_ok = attack() or attack()
        assert filled_ok, f"the limits never filled: {diag}; q53d: {srv.output()[-1500:]}"
        filled = time.monotonic()

        def keepalive():
            while not stop.wait(2.0):
                for s in conns:
                    try:
                        s.sendall(b"\x00\x00")
                    except OSError:
                        pass

        t = threading.Thread(target=keepalive, daemon=True)
        t.start()
        bound = IDLE_MS / 1000 + 4.0
        answered = None
        while time.monotonic() - filled < bound:
            r = tcp_query(srv.host, srv.port, "www.example.com.", "127.0.2.1")
            if r is not None and r.rcode() == dns.rcode.NOERROR and r.answer:
                answered = time.monotonic() - filled
                break
            time.sleep(0.25)
        stop.set()
        t.join(timeout=5)
        assert answered is not None, (
            f"TCP still locked {bound:.0f} s after 1024 connections that send only "
            "zero-length frames filled the limits")
        # The same holds with a real client: kdig over TCP.
        out = subprocess.run(["kdig", "+tcp", "+time=2", "+retry=0", "-p", str(srv.port),
                              f"@{srv.host}", "www.example.com", "A"],
                             capture_output=True, text=True, timeout=10)
        assert "192.0.2.10" in out.stdout, out.stdout + out.stderr
    finally:
        stop.set()
        for s in conns:
            s.close()


# --- response rate limiting ---

FLOOD_SRC = "127.0.1.1"  # the flooding source: one address, one /24
LEGIT_SRC = "127.0.2.1"  # a legitimate client in another /24
BIG = "big.example.com."


def big_txt_zone(path):
    """big.example.com TXT: 4 strings of 250 bytes (a ~1 KB answer)."""
    txt = " ".join(f'"{i}{"x" * 249}"' for i in range(4))
    return write_zone(path, extra=f"big IN TXT {txt}\n")


def edns_query(qname, qtype="TXT", qid=None):
    q = dns.message.make_query(qname, qtype, use_edns=0, payload=1232)
    if qid is not None:
        q.id = qid
    return q.to_wire()


FLOOD_PORTS = 32  # a spoofed flood comes from random source ports


def amplification(host, port, seconds=10.0, rate=2000, legit_rate=10):
    """One source address floods identical EDNS queries for the ~1 KB TXT
    set at `rate`/s for `seconds` (bounded count), round robin over
    FLOOD_PORTS source ports (as a spoofed flood or a resolver would: the
    kernel spreads them over every UDP thread); a client from another /24
    asks the same name `legit_rate` times a second, one try each from a
    fresh port. Returns bytes in/out of the flood (DNS payloads), answers
    and truncated answers the flooder got, and the legitimate client's
    answered share."""
    total = int(seconds * rate)
    floods = []
    for _ in range(FLOOD_PORTS):
        f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        f.bind((FLOOD_SRC, 0))
        f.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        floods.append(f)
    got = {"bytes": 0, "answers": 0, "tc": 0}
    done = threading.Event()

    def reader():
        import select
        while True:
            r, _, _ = select.select(floods, [], [], 0.2)
            if not r and done.is_set():
                return
            for f in r:
                try:
                    data = f.recv(65535)
                except OSError:
                    continue
                got["bytes"] += len(data)
                if len(data) >= 4 and data[2] & 0x02:
                    got["tc"] += 1
                else:
                    got["answers"] += 1

    legit = {"asked": 0, "answered": 0}

    def legit_client():
        n = int(seconds * legit_rate)
        start = time.monotonic()
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((LEGIT_SRC, 0))
            s.settimeout(1.0)
            wire = edns_query(BIG, qid=i)
            legit["asked"] += 1
            s.sendto(wire, (host, port))
            try:
                while True:
                    r = dns.message.from_wire(s.recv(65535))
                    if r.id == i:
                        break
                if r.rcode() == dns.rcode.NOERROR and r.answer and not r.flags & dns.flags.TC:
                    legit["answered"] += 1
            except (socket.timeout, dns.exception.DNSException):
                pass
            s.close()
            wait = start + (i + 1) / legit_rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    rt = threading.Thread(target=reader, daemon=True)
    lt = threading.Thread(target=legit_client, daemon=True)
    rt.start()
    lt.start()
    wire = bytearray(edns_query(BIG, qid=0))
    sent_bytes = 0
    start = time.monotonic()
    for i in range(total):
        wire[0], wire[1] = (i >> 8) & 0xFF, i & 0xFF
        floods[i % FLOOD_PORTS].sendto(wire, (host, port))
        sent_bytes += len(wire)
        if i % 50 == 49:  # pace: `rate` per second
            wait = start + (i + 1) / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
    elapsed = time.monotonic() - start
    lt.join(timeout=seconds + 30)
    time.sleep(0.5)  # answers still in flight (bounded, not a sync)
    done.set()
    rt.join(timeout=5)
    for f in floods:
        f.close()
    return {
        "queries": total, "seconds": round(elapsed, 1),
        "bytes_in": sent_bytes, "bytes_out": got["bytes"],
        "ratio": got["bytes"] / sent_bytes,
        "answers": got["answers"], "truncated": got["tc"],
        "legit_asked": legit["asked"], "legit_answered": legit["answered"],
        "legit_share": legit["answered"] / max(1, legit["asked"]),
    }


def report(name, r):
    print(f"\n[rrl] {name}: {r['queries']} queries in {r['seconds']} s, "
          f"bytes in {r['bytes_in']}, out {r['bytes_out']}, out/in {r['ratio']:.3f}, "
          f"full answers {r['answers']}, truncated {r['truncated']}, legitimate "
          f"{r['legit_answered']}/{r['legit_asked']} ({100 * r['legit_share']:.1f}%)")


class KnotRRL:
    """refservers.KnotServer with mod-rrl on every zone, configured like
    q53d's defaults (rate-limit 20, slip 2)."""

    def __new__(cls, zones, rate=20, slip=2):
        from refservers import KnotServer

        class _K(KnotServer):
            def _prepare(self):
                argv = super()._prepare()
                path = argv[-1]
                with open(path) as f:
                    conf = f.read()
                conf = conf.replace(
                    "template:\n  - id: default\n",
                    f"mod-rrl:\n  - id: default\n    rate-limit: {rate}\n    slip: {slip}\n"
                    "template:\n  - id: default\n    global-module: mod-rrl/default\n", 1)
                with open(path, "w") as f:
                    f.write(conf)
                return argv

        return _K(zones)


def test_rrl_amplification_vs_knot(q53d_factory, tmp_path):
    """Issue 11: a source flooding a ~1 KB TXT set gets back no more bytes
    than it sends (out/in <= 1.0 over 10 s) while a client from another
    /24 is still answered >= 99% - with q53d's defaults; Knot with its RRL
    configured the same way runs the same load, side by side."""
    zone = big_txt_zone(tmp_path / "example.com.zone")
    srv = q53d_factory([("example.com", zone)])
    r = amplification(srv.host, srv.port)
    report("q53d (defaults: rate 20, slip 2)", r)
    with KnotRRL([("example.com", zone)]) as knot:
        k = amplification(knot.host, knot.port)
    report("knot (mod-rrl rate-limit 20, slip 2)", k)
    assert r["ratio"] <= 1.0, r
    assert r["truncated"] > 0, r  # SLIP: some go out with TC=1
    assert r["legit_share"] >= 0.99, r
    srv.stop()
    assert "rrl: " in srv.output() and "responses limited" in srv.output(), srv.output()


def burst(host, port, src, n=400, qname=BIG, qtype="TXT"):
    """n identical EDNS queries from src as fast as they go (bounded);
    returns the responses received within a short drain."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    for i in range(n):
        s.sendto(edns_query(qname, qtype, qid=i), (host, port))
    out = []
    s.settimeout(1.0)
    try:
        while len(out) < n:
            out.append(dns.message.from_wire(s.recv(65535)))
    except socket.timeout:
        pass
    s.close()
    return out


def test_rrl_slip_is_truncated_and_tcp_is_not_limited(q53d_factory, tmp_path):
    """Limited answers that slip carry TC=1, the question and no records;
    the same client then gets the full answer over TCP."""
    zone = big_txt_zone(tmp_path / "example.com.zone")
    srv = q53d_factory([("example.com", zone)])
    rs = burst(srv.host, srv.port, FLOOD_SRC)
    full = [r for r in rs if not r.flags & dns.flags.TC]
    tc = [r for r in rs if r.flags & dns.flags.TC]
    assert len(full) <= 20 * 4 + 20 * 2, len(full)  # the burst, maybe 2 s of refill
    assert tc, "no slipped answer"
    for r in tc:
        assert not r.answer and not r.authority
        assert str(r.question[0].name) == BIG
        assert r.edns == 0
    r = dns.query.tcp(dns.message.make_query(BIG, "TXT"), srv.host, port=srv.port,
                      source=FLOOD_SRC, timeout=3)
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    # TCP is never limited: many in a row, all answered.
    for _ in range(50):
        r = dns.query.tcp(dns.message.make_query(BIG, "TXT"), srv.host, port=srv.port,
                          source=FLOOD_SRC, timeout=3)
        assert r.answer


def test_rrl_flags_whitelist_and_off(q53d_factory, tmp_path):
    """--rrl-whitelist exempts a network; --rrl-rate 0 turns RRL off;
    --rrl-slip 0 drops every limited answer."""
    zone = big_txt_zone(tmp_path / "example.com.zone")
    one = ["--workers", "1"]  # one UDP thread: the counts below are exact
    wl = q53d_factory([("example.com", zone)], extra=one + ["--rrl-whitelist", "127.0.1.0/24"])
    assert len(burst(wl.host, wl.port, FLOOD_SRC, n=300)) == 300
    assert len(burst(wl.host, wl.port, LEGIT_SRC, n=300)) < 300
    off = q53d_factory([("example.com", zone)], extra=one + ["--rrl-rate", "0"])
    rs = burst(off.host, off.port, FLOOD_SRC, n=300)
    assert len(rs) == 300 and not any(r.flags & dns.flags.TC for r in rs)
    assert "rrl: off" in off.output()
    noslip = q53d_factory([("example.com", zone)],
                          extra=one + ["--rrl-slip", "0", "--rrl-rate", "5"])
    rs = burst(noslip.host, noslip.port, FLOOD_SRC, n=300)
    assert 20 <= len(rs) <= 40 and not any(r.flags & dns.flags.TC for r in rs), len(rs)
    # A bad network is refused at startup.
    bad = subprocess.run([wl.args[0], "--dns", "127.0.0.1:1", "--zone", f"example.com={zone}",
                          "--rrl-whitelist", "10.1.2.3/8"], capture_output=True, text=True,
                         timeout=10)
    assert bad.returncode != 0 and "--rrl-whitelist" in bad.stderr


# --- CHAOS TXT: version.bind, hostname.bind, id.server ---

def chaos(host, port, name):
    q = dns.message.make_query(name, "TXT", rdclass="CH")
    return dns.query.udp(q, host, port=port, timeout=2)


def test_chaos_refused_by_default_and_configurable(q53d_factory, tmp_path):
    zone = write_zone(tmp_path / "example.com.zone")
    srv = q53d_factory([("example.com", zone)])
    for name in ("version.bind.", "version.server.", "hostname.bind.", "id.server."):
        assert chaos(srv.host, srv.port, name).rcode() == dns.rcode.REFUSED
    conf = q53d_factory([("example.com", zone)],
                        extra=["--identity", "ns-a.example", "--server-version", "q53d (test)"])
    for name, want in (("version.bind.", "q53d (test)"), ("version.server.", "q53d (test)"),
                       ("hostname.bind.", "ns-a.example"), ("id.server.", "ns-a.example")):
        r = chaos(conf.host, conf.port, name)
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
        assert [t.strings[0].decode() for t in r.answer[0]] == [want]
    out = subprocess.run(["dig", "+short", "-p", str(conf.port), f"@{conf.host}",
                          "CH", "TXT", "version.bind"], capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == '"q53d (test)"', out.stdout + out.stderr
    assert chaos(conf.host, conf.port, "authors.bind.").rcode() == dns.rcode.REFUSED

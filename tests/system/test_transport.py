"""DNS transport of q53d: UDP and TCP on IPv4 and IPv6, RFC 7766 framing
(pipelining, split writes, partial writes), idle timeout, connection limits,
SIGHUP reload and SIGTERM shutdown. Every server is a real q53d process."""
import os
import re
import signal
import socket
import struct
import subprocess
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from q53d import Q53d, free_port, q53d_binary

SOA_NS = """$TTL 300
@ IN SOA ns1.{o}. hostmaster.{o}. {serial} 3600 600 86400 300
@ IN NS ns1.{o}.
ns1 IN A 192.0.2.1
"""


def write_zone(path, origin, www="192.0.2.10", serial=1, extra=""):
    with open(path, "w") as f:
        f.write(f"$ORIGIN {origin}.\n")
        f.write(SOA_NS.format(o=origin, serial=serial))
        f.write(f"www IN A {www}\n")
        f.write(extra)


def big_txt(n=150):
    """An RRset far larger than any UDP payload (~40 KB on the wire)."""
    chunk = "x" * 250
    return "".join(f'big IN TXT "{i:04d}{chunk}"\n' for i in range(n))


@pytest.fixture
def zones(tmp_path):
    com = tmp_path / "example.com.zone"
    net = tmp_path / "example.net.zone"
    write_zone(com, "example.com", extra=big_txt())
    write_zone(net, "example.net", www="198.51.100.7")
    return [("example.com", str(com)), ("example.net", str(net))]


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def a_of(resp):
    for rrset in resp.answer:
        if rrset.rdtype == dns.rdatatype.A:
            return sorted(r.address for r in rrset)
    return []


def frame(msg):
    wire = msg.to_wire()
    return struct.pack("!H", len(wire)) + wire


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_response(s):
    (length,) = struct.unpack("!H", recv_exact(s, 2))
    return dns.message.from_wire(recv_exact(s, length))


def tcp_connect(host, port, timeout=5.0, rcvbuf=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf is not None:  # before connect: it sets the advertised window
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((host, port))
    return s


def closed_by_peer(s, timeout):
    """Waits up to timeout for the server to close s; returns seconds taken,
    or None if it stayed open."""
    s.settimeout(timeout)
    t0 = time.monotonic()
    try:
        data = s.recv(1)
    except socket.timeout:
        return None
    except ConnectionResetError:
        return time.monotonic() - t0
    assert data == b"", f"unexpected data {data!r}"
    return time.monotonic() - t0


def tcp_query(host, port, qname, rdtype="A"):
    with tcp_connect(host, port) as s:
        q = dns.message.make_query(qname, rdtype)
        s.sendall(frame(q))
        r = read_response(s)
        assert r.id == q.id
        return r


def poll(fn, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # server busy reloading: retry
            last = e
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s (last error: {last})")


# --- answers over each transport -------------------------------------------


def test_udp_and_tcp_ipv4(q53d_factory, zones):
    s = q53d_factory(zones)
    q = dns.message.make_query("www.example.com", "A")
    r = dns.query.udp(q, s.host, port=s.port, timeout=3)
    assert r.rcode() == dns.rcode.NOERROR and a_of(r) == ["192.0.2.10"]
    r = dns.query.tcp(dns.message.make_query("www.example.net", "A"), s.host, port=s.port, timeout=3)
    assert r.rcode() == dns.rcode.NOERROR and a_of(r) == ["198.51.100.7"]
    assert "q53d: serving 2 zones on 127.0.0.1:" in s.output()


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_udp_and_tcp_ipv6_with_ipv4_alongside(q53d_factory, zones):
    port4 = free_port("127.0.0.1")
    s = q53d_factory(zones, host="::1", extra=["--dns", f"127.0.0.1:{port4}", "--workers", "2"])
    for host, port in (("::1", s.port), ("127.0.0.1", port4)):
        r = dns.query.udp(dns.message.make_query("www.example.com", "A"), host, port=port, timeout=3)
        assert a_of(r) == ["192.0.2.10"], host
        r = dns.query.tcp(dns.message.make_query("www.example.net", "A"), host, port=port, timeout=3)
        assert a_of(r) == ["198.51.100.7"], host
    assert f"[::1]:{s.port}" in s.output()


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv4_mapped_address(q53d_factory, zones):
    port = free_port("127.0.0.1")
    s = q53d_factory(zones, host="127.0.0.1", port=port,
                     extra=["--dns", f"[::ffff:127.0.0.2]:{port}"])
    # 127.0.0.2 is reached through the IPv6 socket bound to the mapped address
    r = dns.query.udp(dns.message.make_query("www.example.com", "A"), "127.0.0.2", port=port, timeout=3)
    assert a_of(r) == ["192.0.2.10"]
    r = dns.query.tcp(dns.message.make_query("www.example.com", "A"), "127.0.0.2", port=port, timeout=3)
    assert a_of(r) == ["192.0.2.10"]


def test_udp_large_answer_truncated_tcp_complete(q53d_factory, zones):
    s = q53d_factory(zones, extra=["--edns-size", "1232"])
    q = dns.message.make_query("big.example.com", "TXT", use_edns=0, payload=4096)
    r = dns.query.udp(q, s.host, port=s.port, timeout=3)
    assert r.flags & dns.flags.TC
    assert len(r.to_wire()) <= 1232
    r = tcp_query(s.host, s.port, "big.example.com", "TXT")
    assert not r.flags & dns.flags.TC
    assert sum(len(rr) for rr in r.answer) == 150


# --- RFC 7766 framing ------------------------------------------------------


def test_tcp_pipelined_answers_in_order(q53d_factory, zones):
    s = q53d_factory(zones)
    names = ["www.example.com", "www.example.net", "ns1.example.com",
             "nothere.example.com", "www.example.com"] * 4
    queries = [dns.message.make_query(n, "A") for n in names]
    with tcp_connect(s.host, s.port) as c:
        c.sendall(b"".join(frame(q) for q in queries))  # one write
        for q in queries:
            r = read_response(c)
            assert r.id == q.id
            assert r.question[0].name == q.question[0].name
        # the connection stays usable after the pipeline
        q = dns.message.make_query("www.example.net", "A")
        c.sendall(frame(q))
        r = read_response(c)
        assert r.id == q.id and a_of(r) == ["198.51.100.7"]


def test_tcp_query_split_across_writes(q53d_factory, zones):
    s = q53d_factory(zones)
    q = dns.message.make_query("www.example.com", "A")
    data = frame(q)
    with tcp_connect(s.host, s.port) as c:
        # length byte by byte, then the message in three pieces; the pauses
        # only make the pieces separate segments (TCP_NODELAY), they
        # synchronise nothing.
        pieces = [data[:1], data[1:2], data[2:7], data[7:15], data[15:]]
        for p in pieces:
            c.sendall(p)
            time.sleep(0.03)
        r = read_response(c)
        assert r.id == q.id and a_of(r) == ["192.0.2.10"]


def test_tcp_large_answers_with_slow_reader(q53d_factory, zones):
    """Pipelined ~40 KB answers to a client that does not read at first:
    the server must queue partial writes and still answer in order."""
    s = q53d_factory(zones)
    # ~40 KB each: far more than the socket buffers hold while we do not read
    queries = [dns.message.make_query("big.example.com", "TXT") for _ in range(100)]
    with tcp_connect(s.host, s.port, timeout=10, rcvbuf=4096) as c:
        c.sendall(b"".join(frame(q) for q in queries))
        time.sleep(0.3)  # let the server fill its send buffer (not a sync)
        for q in queries:
            r = read_response(c)
            assert r.id == q.id
            assert sum(len(rr) for rr in r.answer) == 150


def test_tcp_message_of_maximum_length_is_read(q53d_factory, zones):
    """A 65535-byte message (a query padded with a huge OPT option): read in
    full, and the connection keeps working after it."""
    s = q53d_factory(zones)
    q = dns.message.make_query("www.example.com", "A")
    wire = bytearray(q.to_wire())
    wire += b"\0" * (65535 - len(wire))  # trailing garbage: any answer or none
    with tcp_connect(s.host, s.port) as c:
        c.sendall(struct.pack("!H", len(wire)) + bytes(wire))
        q2 = dns.message.make_query("www.example.net", "A")
        c.sendall(frame(q2))
        # The server may answer the padded message (FORMERR) or drop it; the
        # next answer must be q2's.
        while True:
            r = read_response(c)
            if r.id == q2.id and r.question and r.question[0].name == q2.question[0].name:
                break
        assert a_of(r) == ["198.51.100.7"]


# --- idle timeout and limits -----------------------------------------------


def test_tcp_idle_timeout(q53d_factory, zones):
    s = q53d_factory(zones, extra=["--tcp-idle-timeout", "500"])
    with tcp_connect(s.host, s.port) as c:
        took = closed_by_peer(c, timeout=5)
    assert took is not None, "idle connection was never closed"
    assert 0.4 <= took <= 0.5 + 1.0, f"closed after {took:.3f}s, timeout 0.5s"


def test_tcp_active_connection_outlives_idle_timeout(q53d_factory, zones):
    s = q53d_factory(zones, extra=["--tcp-idle-timeout", "500"])
    with tcp_connect(s.host, s.port) as c:
        t0 = time.monotonic()
        for _ in range(5):  # a query every 250 ms: 1.25 s in total
            q = dns.message.make_query("www.example.com", "A")
            c.sendall(frame(q))
            assert read_response(c).id == q.id
            time.sleep(0.25)
        assert time.monotonic() - t0 > 1.0
        # an incomplete message does not count as activity
        c.sendall(b"\x00\x40\x12")
        took = closed_by_peer(c, timeout=5)
        assert took is not None and took <= 1.5


def test_tcp_per_client_limit(q53d_factory, zones):
    limit = 3
    s = q53d_factory(zones, extra=["--tcp-max-per-client", str(limit), "--workers", "2"])
    conns = []
    try:
        for _ in range(limit):
            c = tcp_connect(s.host, s.port)
            conns.append(c)
            q = dns.message.make_query("www.example.com", "A")
            c.sendall(frame(q))  # answered: accepted and counted
            assert read_response(c).id == q.id
        extra = tcp_connect(s.host, s.port)
        try:
            assert closed_by_peer(extra, timeout=3) is not None, "connection over the limit stayed open"
        finally:
            extra.close()
        for c in conns:  # the others still work
            q = dns.message.make_query("www.example.net", "A")
            c.sendall(frame(q))
            assert read_response(c).id == q.id
        # closing one frees its slot (poll: the server sees the close later)
        conns.pop().close()
        poll(lambda: tcp_query(s.host, s.port, "www.example.com").rcode() == dns.rcode.NOERROR,
             what="a new connection after one closed")
    finally:
        for c in conns:
            c.close()


def test_tcp_total_limit(q53d_factory, zones):
    s = q53d_factory(zones, extra=["--tcp-max-clients", "2", "--workers", "2"])
    conns = []
    try:
        for _ in range(2):
            c = tcp_connect(s.host, s.port)
            conns.append(c)
            q = dns.message.make_query("www.example.com", "A")
            c.sendall(frame(q))
            assert read_response(c).id == q.id
        extra = tcp_connect(s.host, s.port)
        try:
            assert closed_by_peer(extra, timeout=3) is not None
        finally:
            extra.close()
        # UDP is not affected by TCP limits
        r = dns.query.udp(dns.message.make_query("www.example.com", "A"), s.host, port=s.port, timeout=3)
        assert a_of(r) == ["192.0.2.10"]
    finally:
        for c in conns:
            c.close()


# --- signals ---------------------------------------------------------------


def test_sighup_invalid_file_keeps_old_data(q53d_factory, zones):
    s = q53d_factory(zones)
    com_path = zones[0][1]
    # lines: $ORIGIN, $TTL, SOA, NS, ns1, www, then the broken record (7)
    write_zone(com_path, "example.com", www="192.0.2.99", serial=2,
               extra="broken IN A not-an-address\n")
    bad_line = 7
    # the other zone changes validly in the same reload
    write_zone(zones[1][1], "example.net", www="198.51.100.8", serial=2)
    s.signal(signal.SIGHUP)
    poll(lambda: f"{com_path}:{bad_line}" in s.output(), what="reload error naming file:line")
    poll(lambda: a_of(dns.query.udp(dns.message.make_query("www.example.net", "A"),
                                    s.host, port=s.port, timeout=1)) == ["198.51.100.8"],
         what="valid zone reloaded next to an invalid one")
    for query in (dns.query.udp, dns.query.tcp):
        r = query(dns.message.make_query("www.example.com", "A"), s.host, port=s.port, timeout=3)
        assert r.rcode() == dns.rcode.NOERROR and a_of(r) == ["192.0.2.10"]
    assert s.alive()


def test_sighup_valid_change_is_served(q53d_factory, zones):
    s = q53d_factory(zones)
    write_zone(zones[0][1], "example.com", www="192.0.2.55", serial=3,
               extra="new IN A 192.0.2.56\n")
    s.signal(signal.SIGHUP)
    poll(lambda: a_of(dns.query.udp(dns.message.make_query("www.example.com", "A"),
                                    s.host, port=s.port, timeout=1)) == ["192.0.2.55"],
         what="new data after SIGHUP")
    r = dns.query.tcp(dns.message.make_query("new.example.com", "A"), s.host, port=s.port, timeout=3)
    assert a_of(r) == ["192.0.2.56"]
    # the removed name is gone
    r = dns.query.udp(dns.message.make_query("big.example.com", "TXT"), s.host, port=s.port, timeout=3)
    assert r.rcode() == dns.rcode.NXDOMAIN


def test_reloads_under_load_then_sigterm(q53d_factory, zones):
    """Views are swapped while workers answer: every answer is one of the
    published versions, and the process still exits cleanly (no leak)."""
    s = q53d_factory(zones, extra=["--workers", "2"])
    seen = set()
    deadline = time.monotonic() + 3.0
    for i in range(10):
        write_zone(zones[0][1], "example.com", www=f"192.0.2.{100 + i}", serial=10 + i)
        s.signal(signal.SIGHUP)
        for _ in range(20):
            if time.monotonic() > deadline:
                break
            r = dns.query.udp(dns.message.make_query("www.example.com", "A"), s.host, port=s.port, timeout=2)
            seen.update(a_of(r))
    assert seen <= {"192.0.2.10"} | {f"192.0.2.{100 + i}" for i in range(10)}
    poll(lambda: a_of(dns.query.udp(dns.message.make_query("www.example.com", "A"),
                                    s.host, port=s.port, timeout=1)) == ["192.0.2.109"],
         what="last reload served")


def test_sigterm_exits_zero_with_open_connections(zones):
    s = Q53d(zones)
    try:
        idle = tcp_connect(s.host, s.port)
        half = tcp_connect(s.host, s.port)
        half.sendall(b"\x00\x30\x01\x02")  # an incomplete message
        q = dns.message.make_query("www.example.com", "A")
        idle.sendall(frame(q))
        assert read_response(idle).id == q.id
        rc = s.stop()
        out = s.output()
        assert rc == 0, out
        assert "q53d: stopped" in out
        idle.close()
        half.close()
    finally:
        s.stop()
        s.cleanup()


def test_sigint_exits_zero(zones):
    s = Q53d(zones)
    try:
        s.signal(signal.SIGINT)
        s.proc.wait(timeout=15)
        assert s.proc.returncode == 0, s.output()
    finally:
        s.stop()
        s.cleanup()


# --- command line ----------------------------------------------------------


def run_q53d(args, timeout=15):
    return subprocess.run([q53d_binary()] + args, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args,needle", [
    (["--zone", "example.com=/dev/null"], "--dns"),
    (["--dns", "127.0.0.1:5353"], "--zone"),
    (["--dns", "localhost", "--zone", "a=b"], "ADDR:PORT"),
    (["--dns", "::1:53", "--zone", "a=b"], "brackets"),
    (["--dns", "127.0.0.1:0", "--zone", "a=b"], "port"),
    (["--dns", "127.0.0.1:53", "--zone", "nofile"], "ORIGIN=FILE"),
    (["--dns", "127.0.0.1:53", "--zone", "a=b", "--workers", "0"], "--workers"),
    (["--dns", "127.0.0.1:53", "--zone", "a=b", "--edns-size", "100"], "512"),
    (["--dns", "127.0.0.1:53", "--zone", "a=b", "--tcp-idle-timeout", "x"], "--tcp-idle-timeout"),
    (["--dns", "127.0.0.1:53", "--zone", "a=b", "--bogus"], "--bogus"),
    (["--dns", "127.0.0.1:53", "--zone", "a=b", "--workers"], "--workers"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle):
    p = run_q53d(args)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert needle in lines[0] and lines[0].startswith("q53d: ")


def test_help_and_version():
    p = run_q53d(["--help"])
    assert p.returncode == 0 and "--tcp-max-per-client" in p.stdout
    p = run_q53d(["--version"])
    cmake = os.path.join(os.path.dirname(__file__), "..", "..", "CMakeLists.txt")
    with open(cmake) as f:
        version = re.search(r"project\(quorum53 VERSION ([0-9.]+)", f.read()).group(1)
    assert p.returncode == 0 and p.stdout == f"q53d {version}\n"


def test_bad_zone_file_at_start_exits_1(tmp_path):
    path = tmp_path / "bad.zone"
    write_zone(path, "example.com", www="not-an-address")
    port = free_port()
    p = run_q53d(["--dns", f"127.0.0.1:{port}", "--zone", f"example.com={path}"])
    assert p.returncode == 1, p.stderr
    assert f"{path}:6" in p.stderr


def test_address_in_use_exits_1(zones):
    port = free_port()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", port))  # no SO_REUSEPORT: q53d cannot share it
    try:
        p = run_q53d(["--dns", f"127.0.0.1:{port}", "--zone", f"{zones[0][0]}={zones[0][1]}"])
        assert p.returncode == 1
        assert f"127.0.0.1:{port}" in p.stderr
    finally:
        blocker.close()

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
    try:
        for a in range(1, ATTACK_SOURCES + 1):
            for _ in range(PER_SOURCE):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind((f"127.0.1.{a}", 0))
                s.connect((srv.host, srv.port))
                conns.append(s)
        # Every connection is accepted (the server counts it) before the
        # check below: one zero-length frame each and a poll until the
        # limits are visibly full.
        for s in conns:
            s.sendall(b"\x00\x00")
        full_deadline = time.monotonic() + 5
        answered_before = 0
        while tcp_query(srv.host, srv.port, "www.example.com.", "127.0.2.1") is not None:
            answered_before += 1
            assert time.monotonic() < full_deadline, (
                f"the limits never filled ({answered_before} answers)")
            time.sleep(0.1)
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

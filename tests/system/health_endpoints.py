"""Health-check endpoints owned by a test: an HTTP server and a TCP listener
on 127.0.0.x that can be stopped and started (the port is refused while
stopped), made to flap, and told to refuse the probes coming FROM given
source addresses.

Per-node blocked route emulation: every q53d node probes from the host of
its --raft address (127.0.0.<id>), so an endpoint that refuses connections
from 127.0.0.2 behaves, for node 2 alone, like an endpoint behind a broken
route, while the other nodes still reach it. "refuse" closes the accepted
connection at once without an answer ("empty reply" for the prober); "503"
answers HTTP 503. That is how the tests make one node, or a majority, unable
to reach an endpoint without network namespaces or root.

Each endpoint serves on its own thread (a selector loop with a short poll,
stopped through an Event and joined): nothing here sleeps to synchronise.
"""
import selectors
import socket
import struct
import threading
import time


class _Endpoint:
    """Shared machinery: a listening socket served by one thread."""

    def __init__(self, host, port=0):
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._blocked = {}  # source ip -> "refuse" | "503"
        self._hits = []  # (monotonic time, source ip, answered healthy)
        self._listener = None
        self._stop = threading.Event()
        self._thread = None
        self.flap_period = None  # seconds per phase, None = no flapping
        self._flap_origin = 0.0

    # --- control -------------------------------------------------------------

    def start(self):
        """Listens (again) on the same port and serves until stop()."""
        if self._thread is not None:
            return self
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(128)
        s.setblocking(False)
        self.port = s.getsockname()[1]
        self._listener = s
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"endpoint-{self.host}:{self.port}")
        self._thread.start()
        return self

    def stop(self):
        """Closes the listener: new connections are refused (RST)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._thread = None
        self._listener.close()
        self._listener = None

    @property
    def running(self):
        return self._thread is not None

    def block(self, source_ip, mode="refuse"):
        """Refuse probes from source_ip ("refuse": close at once; "503")."""
        with self._lock:
            self._blocked[source_ip] = mode

    def unblock(self, source_ip=None):
        with self._lock:
            if source_ip is None:
                self._blocked.clear()
            else:
                self._blocked.pop(source_ip, None)

    def flap(self, period_s):
        """Alternate healthy / unhealthy answers every period_s seconds
        (None stops flapping)."""
        self.flap_period = period_s
        self._flap_origin = time.monotonic()

    def hits(self, since=None):
        """[(time, source ip, healthy)] of the probes received."""
        with self._lock:
            return [h for h in self._hits if since is None or h[0] >= since]

    def sources(self):
        with self._lock:
            return sorted({h[1] for h in self._hits})

    def clear_hits(self):
        with self._lock:
            self._hits.clear()

    # --- serving -------------------------------------------------------------

    def _healthy_now(self):
        if self.flap_period is None:
            return True
        phase = int((time.monotonic() - self._flap_origin) / self.flap_period)
        return phase % 2 == 0

    def _mode_for(self, ip):
        with self._lock:
            return self._blocked.get(ip)

    def _record(self, ip, healthy):
        with self._lock:
            self._hits.append((time.monotonic(), ip, healthy))

    def _serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for _key, _ev in sel.select(timeout=0.05):
                    while True:
                        try:
                            conn, peer = self._listener.accept()
                        except (BlockingIOError, OSError):
                            break
                        try:
                            self._handle(conn, peer[0])
                        except OSError:
                            pass
                        finally:
                            conn.close()
        finally:
            sel.close()

    def _handle(self, conn, ip):
        raise NotImplementedError


class HTTPEndpoint(_Endpoint):
    """Answers any request with 200 (or 503 while flapping down / for a
    source told "503"), and closes."""

    def _handle(self, conn, ip):
        mode = self._mode_for(ip)
        if mode == "refuse":
            self._record(ip, False)
            # RST rather than FIN: the prober sees a reset at once.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            return
        conn.settimeout(1.0)
        data = b""
        deadline = time.monotonic() + 1.0
        while b"\r\n\r\n" not in data and time.monotonic() < deadline and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        healthy = mode != "503" and self._healthy_now()
        self._record(ip, healthy)
        status = b"200 OK" if healthy else b"503 Service Unavailable"
        body = b"OK\n" if healthy else b"DOWN\n"
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: " +
                     str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


class TCPEndpoint(_Endpoint):
    """Accepts and closes: a TCP check is healthy while it listens.
    (Per-source refusal is not possible once the handshake succeeded, so
    block() only records; tests block HTTP endpoints.)"""

    def _handle(self, conn, ip):
        self._record(ip, True)

"""An attacker on the Raft port of a q53d node: Raft messages of the
project's wire format (proto/raft_msg.proto, encoded by hand here: the
tests depend on no protobuf compiler) sent over NNG PUSH (pynng, pinned in
tests/requirements-pypi.txt) from a chosen source IP, the way a process on
the network that holds no cluster credentials would.

Also the log entry a forged AppendEntries carries: fsm_log framing format 1
(node/raft/fsm_log.h) around a command of type 3 (the previous release's
change batch as JSON, converted by node/control/upgrade.c on apply)."""
import json
import struct

import pynng

RAFT_COMMAND = 1
RAFT_BARRIER = 2


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint(field << 3 | wire)


def f_uint(field, n):
    return _key(field, 0) + _varint(n) if n else b""


def f_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return _key(field, 2) + _varint(len(data)) + data


def raft_message(sender_id, sender_address, body_field, body):
    return f_uint(1, sender_id) + f_bytes(2, sender_address) + f_bytes(body_field, body)


def append_entries(sender_id, sender_address, term, prev_index, prev_term, commit,
                   entries=()):
    """entries: [(term, type, data)]."""
    body = f_uint(1, term) + f_uint(2, prev_index) + f_uint(3, prev_term) + f_uint(4, commit)
    for et, etype, data in entries:
        body += f_bytes(5, f_uint(1, et) + f_uint(2, etype) + f_bytes(3, data))
    return raft_message(sender_id, sender_address, 10, body)


def request_vote(sender_id, sender_address, term, last_index, last_term,
                 candidate_id=None, disrupt_leader=False, pre_vote=False):
    body = (f_uint(1, term) + f_uint(2, sender_id if candidate_id is None else candidate_id)
            + f_uint(3, last_index) + f_uint(4, last_term)
            + f_uint(5, int(disrupt_leader)) + f_uint(6, int(pre_vote)))
    return raft_message(sender_id, sender_address, 12, body)


def legacy_change_entry(zone_id, name, rtype, value, ttl=300):
    """An fsm_log format-1 entry holding command type 3 (a change batch)."""
    batch = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl,
        "ResourceRecords": [{"Value": value}]}}]})
    payload = (f_bytes(1, zone_id) + f_bytes(2, "C0FORGED0000001")
               + f_bytes(3, batch) + f_uint(4, 1))
    head = struct.pack("<BBHIQQ", 1, 0, 3, len(payload), 0, 0)
    data = head + payload
    return data + b"\0" * (-len(data) % 8)


def raft_url(node):
    return f"tcp://{node.raft}"


class Attacker:
    """PUSH sockets to nodes' Raft listeners, dialled from source_ip."""

    def __init__(self, source_ip="127.0.0.99"):
        self.source_ip = source_ip
        self.socks = {}

    def sock(self, node, source_ip=None):
        src = source_ip or self.source_ip
        k = (node.raft, src)
        if k not in self.socks:
            s = pynng.Push0(send_timeout=1000)
            s.dial(f"tcp://{src};{node.raft}", block=True)
            self.socks[k] = s
        return self.socks[k]

    def send(self, node, msg, source_ip=None):
        self.sock(node, source_ip).send(msg)

    def close(self):
        for s in self.socks.values():
            s.close()
        self.socks.clear()


class Listener:
    """A PULL listener at the attacker's own address: what a node sends to
    an address a forged message named."""

    def __init__(self, host="127.0.0.99"):
        self.sock = pynng.Pull0(recv_timeout=100)
        self.sock.listen(f"tcp://{host}:0")
        # str() gives "HOST:PORT" (pynng's .port is in network byte order)
        self.url = f"tcp://{self.sock.listeners[0].local_address}"

    def drain(self):
        n = 0
        while True:
            try:
                self.sock.recv()
                n += 1
            except pynng.Timeout:
                return n

    def close(self):
        self.sock.close()


# --- the NNG API (proto/api.proto): the members' internal requests ---------

def api_request(body_field, body, version=1):
    return f_uint(1, version) + f_bytes(body_field, body)


def health_vote(member_id, check_id, healthy, observed_at_ms, reason="forged"):
    body = (f_uint(1, member_id) + f_bytes(2, check_id) + f_uint(3, int(healthy))
            + f_bytes(4, reason) + f_uint(5, observed_at_ms))
    return api_request(29, body)


def response_error(buf):
    """The Response's error code (field 1), "" on success."""
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _read_varint(buf, i)
        elif wire == 2:
            n, i = _read_varint(buf, i)
            if field == 1:
                return buf[i:i + n].decode()
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            break
    return ""


def _read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


class ApiClient:
    """REQ to a node's NNG API, dialled from source_ip."""

    def __init__(self, node, source_ip):
        self.sock = pynng.Req0(send_timeout=1000, recv_timeout=2000)
        self.sock.dial(f"tcp://{source_ip};{node.api}", block=True)

    def call(self, req):
        self.sock.send(req)
        return self.sock.recv()

    def close(self):
        self.sock.close()

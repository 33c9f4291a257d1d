#!/usr/bin/env python3
"""Writes the seeds of fuzz_q53_api (tests/fuzz/corpus/q53_api/): packed
q53.api.Request messages as the q53 CLI POSTs them to /q53/api, one per
request kind the IAM table distinguishes, encoded by hand (protobuf's wire
format: no protobuf package needed). Also adds the route of that endpoint
to the route53_route corpus. Run from anywhere; rewrites the files."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(field(n, v) for n, v in fields)


def request(kind, body, version=1):
    return msg((1, version), (kind, body))


BATCH = ('{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":'
         '"_acme-challenge.example.com","Type":"TXT","TTL":60,'
         '"ResourceRecords":[{"Value":"\\"tok\\""}]}}]}')
SEEDS = {
    "create_zone": request(10, msg((1, "example.com"), (2, "ref-1"), (3, "c"))),
    "list_zones": request(11, msg((1, "Z1"), (2, 5))),
    "get_zone_name": request(12, msg((1, "example.com."))),
    "get_zone_prefixed": request(12, msg((1, "/hostedzone/ZABC"))),
    "delete_zone": request(13, msg((1, "ZABC"))),
    "import_zone": request(14, msg((1, "example.com"), (2, "www 60 IN A 192.0.2.1\n"))),
    "export_zone": request(15, msg((1, "example.com"))),
    "change_batch": request(16, msg((1, "example.com"), (2, BATCH), (3, "AKIASPOOFED"))),
    "change_batch_nul": request(16, msg((1, "Z1"), (2, b'{"Changes":[]}\x00{"x":1}'))),
    "change_batch_bad_json": request(16, msg((1, "Z1"), (2, '{"Changes":[{"Action":'))),
    "get_change": request(17, msg((1, "/change/C1"))),
    "list_records": request(18, msg((1, "example.com"), (4, "www"), (5, "A"))),
    "list_nodes": request(19, b""),
    "add_node": request(20, msg((1, 9), (2, "127.0.0.9:7053"), (3, "127.0.0.9:8053"))),
    "remove_node": request(21, msg((1, 2))),
    "status": request(22, b""),
    "get_health_check": request(24, msg((1, "/healthcheck/H1"))),
    "health_vote": request(29, msg((1, 2), (2, "H1"), (3, 1))),
    "create_access_key": request(40, msg((1, '{"Version":"2012-10-17","Statement":[]}'))),
    "list_changes_all": request(43, msg((2, 10))),
    "list_changes_zone": request(43, msg((1, "example.com"))),
    "change_tags": request(45, msg((1, "hostedzone"), (2, "Z1"), (4, "k"))),
    "list_tags_many": request(46, msg((1, "healthcheck"), (2, "H1"), (2, "H2"))),
    "test_answer": request(50, msg((1, "example.com"), (2, "www.example.com."), (3, "A"))),
    "create_cidr_collection": request(60, msg((1, "offices"), (2, "ref-1"))),
    "change_cidr_collection": request(61, msg(
        (1, "0b6b2a5e-1c1d-4e8f-9a0b-1c2d3e4f5a6b"), (2, 1),
        (3, msg((1, "PUT"), (2, "berlin"), (3, "10.49.0.0/16"), (3, "2001:db8:49::/48"))))),
    "delete_cidr_collection": request(62, msg((1, "/cidrcollection/K1"))),
    "list_cidr_collections": request(63, msg((2, 1))),
    "list_cidr_locations": request(64, msg((1, "K1"), (3, 5))),
    "list_cidr_blocks": request(65, msg((1, "K1"), (2, "berlin"))),
    "latency_delete": request(71, msg((1, "198.51.100.0/24"))),
    "latency_list": request(72, b""),
    "newer_version": request(22, b"", version=99),
    "no_body": msg((1, 1)),
    "unknown_kind": msg((1, 1), (89, b"")),
}

if __name__ == "__main__":
    out = os.path.join(HERE, "corpus", "q53_api")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    route = os.path.join(HERE, "corpus", "route53_route")
    for name, text in (("q53-api", "POST\n/q53/api\n"), ("q53-api-get", "GET\n/q53/api\n")):
        with open(os.path.join(route, name), "w") as f:
            f.write(text)
    print(f"{len(SEEDS)} seeds in {out}")

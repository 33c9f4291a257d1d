#!/usr/bin/env python3
"""Writes the upgrade fixture: a one-node data directory made by a given
release's q53d (Q53D, Q53 in the environment), with a snapshot and a log
tail holding every command type that release had (zones, change batches,
an imported zone file, health checks, votes, node metadata; 0.3.0: access
keys, tags, zone comments), plus the
answers that release gave (expected.json). test_upgrade.py restarts the
current q53d on a copy and requires the same answers.

    Q53D=.../q53d Q53=.../q53 tests/system/data/upgrade/make_fixture.py OUT_DIR

From 0.2.0 on (the release q53 --version names) it also writes the types
0.1.0 did not have or the 0.1.0 fixture left out (zone and health-check
deletion, a vote, the node's own metadata after a
rename), all of them after the last snapshot, so that the log tail holds
every command type that release writes (the snapshots hold the rest).

From 0.3.0 on the node also serves the REST API (--http), so its first
boot draws the administrator key (DATA/admin-key, in the fixture: the
current CLI signs with it), and the tail also holds what 0.3.0 added
(tail_of_0_3_0): weighted, multivalue and geolocation groups and an apex
alias (record set commands of command_version 2 and 3), access keys
created with a policy and deleted, tags on a zone and a health check
(Route 53's ChangeTagsForResource through boto3: 0.3.0's CLI has no tag
command) and a zone comment update. Answers that a group picks per query
are recorded as the set of records seen over the query IDs 0..CHOICE_IDS-1
("choices" in expected.json), together with the tags and access keys.
From 0.4.0 on (tail_of_0_4_0; q53 signs its HTTP requests with
DATA/admin-key): a CIDR collection before the last snapshot (so that
snapshot has format 4), then latency table rows and latency record sets,
CIDR collections and IP-based sets, geoproximity sets, traffic policies
(two versions, a comment, a deletion) and a policy record; expected.json
also holds the CIDR blocks, the latency table, the policies and the
policy records, and the latency, geoproximity and policy-record names
among the choices.
Run it with a Python that has dnspython and (for 0.3.0) boto3, e.g.
/tmp/venv-full/bin/python.

Addresses are fixed (the Raft configuration in the log names them):
127.0.0.53, raft 17053, api 18053, dns 15353 (0.3.0: http 19053).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

import dns.message
import dns.query
import dns.rcode

HOST = "127.0.0.53"
RAFT = f"{HOST}:17053"
API = f"{HOST}:18053"
DNS_PORT = 15353
HTTP = f"{HOST}:19053"
CHOICE_IDS = 128  # query IDs 0..127 for the names a group answers per query
ADMIN_KEY = []  # the path of DATA/admin-key (0.3.0)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "..", "..", "shared", "data", "route53")

# (qname, type): what the test asks both releases.
QUERIES = [
    ("example.com.", "SOA"), ("example.com.", "NS"), ("example.com.", "MX"),
    ("example.com.", "TXT"), ("example.com.", "CAA"), ("www.example.com.", "A"),
    ("www.example.com.", "AAAA"), ("blog.example.com.", "CNAME"),
    ("_sip._tcp.example.com.", "SRV"), ("shop.example.com.", "A"),
    ("nope.example.com.", "A"), ("bulk7.example.com.", "A"),
    ("bulk19.example.com.", "TXT"), ("imported.test.", "SOA"),
    ("host.imported.test.", "A"), ("alias.imported.test.", "CNAME"),
    ("sub.imported.test.", "NS"), ("x.sub.imported.test.", "A"),
]


def cli(*args):
    """0.4.0's q53 signs HTTP requests with DATA/admin-key; before it, q53
    spoke NNG to --api."""
    if release() >= (0, 4, 0):
        return [os.environ["Q53"], "--endpoint", f"http://{HTTP}", "--data",
                os.path.dirname(ADMIN_KEY[0]), "--json"] + list(args)
    return [os.environ["Q53"], "--node", API, "--json"] + list(args)


def q53(*args, stdin=None):
    cmd = cli("--timeout", "10", *args)
    p = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: {p.returncode} {p.stderr}")
    return json.loads(p.stdout) if p.stdout.strip() else None


RELEASE = []


def release():
    if not RELEASE:
        p = subprocess.run([os.environ["Q53"], "--version"], capture_output=True,
                           text=True)
        RELEASE.append(tuple(int(x) for x in p.stdout.split()[-1].split(".")))
    return RELEASE[0]


def wait_vote(check_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = q53("health", "status", check_id)
        if any(n.get("Vote") for n in s["Nodes"]):
            return s
        time.sleep(0.2)
    raise RuntimeError(f"no vote on {check_id}: {s}")


def start(args, name):
    proc = subprocess.Popen(args + ["--name", name], stdout=subprocess.DEVNULL)
    try:
        wait_leader(proc)
    except BaseException:
        proc.kill()  # it holds the fixed addresses
        proc.wait(timeout=10)
        raise
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=20)
    if rc != 0:
        raise RuntimeError(f"q53d exit {rc}")


def pad_to_snapshot():
    """Batches up to the next snapshot (an index that is a multiple of 64)."""
    while q53("status")["AppliedIndex"] % 64 != 0:
        q53("change-batch", "example.com", "-", stdin=json.dumps({"Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": "pad.example.com", "Type": "TXT", "TTL": 60,
                "ResourceRecords": [{"Value": '"pad"'}]}}]}))


def tail_of_every_type(args, proc):
    """0.2.0's commands after the last snapshot: the node's own metadata
    (restart under its final name), zone create + delete, a health check
    with a vote, updated and deleted, a batch, an import (no node removal:
    a one-node cluster has no other node to remove). First pads with
    batches up to a snapshot (index a multiple of 64), so that these all
    come after it. Returns the running node."""
    pad_to_snapshot()
    stop(proc)
    proc = start(args, "n1")                                      # [9]
    q53("zone", "create", "gone.test", "--caller-reference", "fixture-gone")  # [1]
    q53("zone", "delete", "gone.test")                            # [2]
    hc = q53("health", "create", "-", "--caller-reference", "fixture-vote",  # [13]
             stdin=json.dumps({"IPAddress": HOST, "Port": 1, "Type": "TCP",
                               "RequestInterval": 1, "FailureThreshold": 1}))
    vid = hc["HealthCheck"]["Id"]
    wait_vote(vid)                                                # [8]
    q53("health", "update", vid, "-", stdin=json.dumps({"FailureThreshold": 3}))  # [14]
    q53("health", "delete", vid)                                  # [7]
    q53("change-batch", "example.com", "-", stdin=json.dumps({"Changes": [  # [11]
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": "tail2.example.com", "Type": "AAAA", "TTL": 7,
            "ResourceRecords": [{"Value": "2001:db8::7"}]}}]}))
    q53("zone", "create", "late.test")                            # [1]
    q53("zone", "import", "late.test", "-", stdin=(               # [12]
        "$TTL 60\n@ SOA ns1.q53.test. hostmaster.late.test. 7 7200 900 1209600 86400\n"
        "@ NS ns1.q53.test.\nwww A 198.51.100.7\n"))
    return proc


def r53():
    """boto3 Route 53 client signed with DATA/admin-key (0.3.0's REST API)."""
    import boto3
    from botocore.config import Config
    with open(ADMIN_KEY[0]) as f:
        kv = dict(line.strip().split("=", 1) for line in f if line.startswith("AWS_"))
    return boto3.client("route53", endpoint_url=f"http://{HTTP}", region_name="us-east-1",
                        aws_access_key_id=kv["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=kv["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"max_attempts": 2}))


def wait_file(path, timeout=30):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {path}")
        time.sleep(0.1)


def tail_of_0_3_0(zone_id, hcid, work):
    """0.3.0's additions, after tail_of_every_type (still before the next
    snapshot): a weighted group (weight 0 member included), a multivalue
    group (health-checked members), a geolocation group (no --geoip: the
    default answers), an alias at the apex to the failover group, two
    access keys with policies (one deleted), tags on the zone and on the
    health check, the zone's comment changed. Returns what expected.json
    holds about them besides the DNS answers."""
    def batch(name, **repl):
        with open(os.path.join(SHARED, name)) as f:
            text = f.read()
        for k, v in repl.items():
            text = text.replace(k, v)
        q53("change-batch", "example.com", "-", stdin=text)      # [11] v2/v3
    batch("batch-weighted.json")
    batch("batch-multivalue.json", HC_M1_ID=hcid, HC_M2_ID=hcid)
    batch("batch-geolocation.json")
    batch("batch-alias-apex.json", SAME_ZONE_ID=zone_id)
    pol = os.path.join(work, "policy.json")
    with open(pol, "w") as f:
        json.dump({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["route53:Get*", "route53:List*"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
             "Resource": f"arn:aws:route53:::hostedzone/{zone_id}"}]}, f)
    reader = q53("key", "create", "--policy", pol,               # [15]
                 "--description", "fixture reader")["AccessKey"]
    gone = q53("key", "create", "--policy", pol, "--description", "fixture gone")
    q53("key", "delete", gone["AccessKey"]["AccessKeyId"])        # [16]
    c = r53()
    c.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id,  # [18]
                               AddTags=[{"Key": "team", "Value": "dns"},
                                        {"Key": "env", "Value": "fixture"}])
    c.change_tags_for_resource(ResourceType="healthcheck", ResourceId=hcid,
                               AddTags=[{"Key": "probe", "Value": "tcp"}])
    q53("zone", "comment", "example.com", "upgrade fixture (0.3.0)")  # [19]
    QUERIES.extend([("example.com.", "A"), ("geo.example.com.", "A")])
    CHOICES.extend([("app.example.com.", "A"), ("pool.example.com.", "A")])
    tags = {}
    for kind, rid in (("hostedzone", zone_id), ("healthcheck", hcid)):
        t = c.list_tags_for_resource(ResourceType=kind, ResourceId=rid)["ResourceTagSet"]
        tags[kind] = sorted(t["Tags"], key=lambda x: x["Key"])
    keys = sorted(({"AccessKeyId": k["AccessKeyId"], "Description": k["Description"],
                    "PolicyDocument": k["PolicyDocument"]}
                   for k in q53("key", "list")["AccessKeys"]),
                  key=lambda k: k["AccessKeyId"])
    # Its secret too (a test key): the test signs with it, so the policy
    # itself, not only its text, must survive the upgrade.
    return {"tags": tags, "keys": keys,
            "reader": {k: reader[k] for k in ("AccessKeyId", "SecretAccessKey")}}


def early_0_4_0():
    """Before the padding to a snapshot: a CIDR collection, so that the
    fixture's last snapshot has 0.4.0's format 4 (FsmSnapshot 10)."""
    c = q53("cidr", "create", "early", "--caller-reference", "fixture-early")
    cid = c["Collection"]["Id"]
    q53("cidr", "put", cid, "lab", "127.0.1.0/24")
    return cid


TRAFFIC_POLICY = {
    "AWSPolicyFormatVersion": "2015-10-01",
    "RecordType": "A",
    "StartRule": "pool",
    "Endpoints": {"a": {"Type": "value", "Value": "192.0.2.61"},
                  "b": {"Type": "value", "Value": "192.0.2.62"}},
    "Rules": {"pool": {"RuleType": "weighted",
                       "Items": [{"EndpointReference": "a", "Weight": "3"},
                                 {"EndpointReference": "b", "Weight": "1"}]}},
}


def tail_of_0_4_0(zone_id, work):
    """0.4.0's additions after 0.3.0's (the log tail): latency table rows
    (command 22) and latency record sets (command_version 5), a CIDR
    collection with locations (20, 21) and IP-based record sets (4),
    geoproximity record sets (6), a traffic policy with a second version
    and a comment (24, 25), a policy record (27), a version deleted (26).
    Not written: measured latency samples (23, --site probers)."""
    q53("latency", "set", "127.0.0.0/8", "eu-west-1=40", "us-east-1=5")   # [22]
    q53("latency", "set", "198.51.100.0/24", "eu-west-1=3")
    with open(os.path.join(SHARED, "batch-latency.json")) as f:
        q53("change-batch", "example.com", "-", stdin=f.read())           # [11] v5
    c = q53("cidr", "create", "offices", "--caller-reference", "fixture-cidr")  # [20]
    cid = c["Collection"]["Id"]
    q53("cidr", "put", cid, "berlin", "127.0.0.0/16")                     # [21]
    q53("cidr", "put", cid, "nyc", "10.20.0.0/16", "2001:db8:20::/48")
    q53("cidr", "delete-blocks", cid, "nyc", "2001:db8:20::/48")
    with open(os.path.join(SHARED, "batch-cidr.json")) as f:
        q53("change-batch", "example.com", "-",                           # [11] v4
            stdin=f.read().replace('"offices"', json.dumps(cid)))
    geoprox = {"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "geoprox.example.com", "Type": "A", "TTL": 60,
            "SetIdentifier": sid, "GeoProximityLocation": loc,
            "ResourceRecords": [{"Value": value}]}}
        for sid, loc, value in (
            ("virginia", {"AWSRegion": "us-east-1", "Bias": 0}, "192.0.2.81"),
            ("sydney", {"Coordinates": {"Latitude": "-33.87", "Longitude": "151.21"},
                        "Bias": -20}, "192.0.2.83"))]}
    q53("change-batch", "example.com", "-", stdin=json.dumps(geoprox))   # [11] v6
    doc = os.path.join(work, "policy-doc.json")
    with open(doc, "w") as f:
        json.dump(TRAFFIC_POLICY, f)
    tp = q53("traffic-policy", "create", "fixture-pool", doc,            # [24]
             "--comment", "fixture")["TrafficPolicy"]
    v2 = dict(TRAFFIC_POLICY, StartRule="pool")
    v2["Endpoints"] = dict(TRAFFIC_POLICY["Endpoints"],
                           b={"Type": "value", "Value": "192.0.2.63"})
    with open(doc, "w") as f:
        json.dump(v2, f)
    q53("traffic-policy", "version", tp["Id"], doc)                      # [24]
    q53("traffic-policy", "comment", tp["Id"], "1", "first version")     # [25]
    q53("policy-record", "create", zone_id, "flow.example.com", "60",    # [27]
        tp["Id"], "1")
    q53("traffic-policy", "delete", tp["Id"], "2")                       # [26]
    QUERIES.extend([("intra.example.com.", "A")])
    CHOICES.extend([("fast.example.com.", "A"), ("geoprox.example.com.", "A"),
                    ("flow.example.com.", "A")])
    return {"cidr": {name: q53("cidr", "blocks", i) for name, i in
                     (("early", EARLY_CIDR[0]), ("offices", cid))},
            "latency": q53("latency", "list"),
            "traffic_policies": q53("traffic-policy", "list"),
            "policy_records": q53("policy-record", "list")}


EARLY_CIDR = []


def wait_leader(proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("q53d exited")
        if release() >= (0, 4, 0) and not os.path.exists(ADMIN_KEY[0]):
            time.sleep(0.1)  # the first boot writes it once it leads
            continue
        p = subprocess.run(cli("--timeout", "1", "status"), capture_output=True,
                           text=True)
        if p.returncode == 0 and json.loads(p.stdout).get("LeaderId") == 1:
            return
        time.sleep(0.1)
    raise RuntimeError("no leader")


# (qname, type) a group answers per query: recorded as every record seen
# over the query IDs 0..CHOICE_IDS-1 (0.3.0).
CHOICES = []


def answers():
    out = {}
    for qname, t in QUERIES:
        r = dns.query.udp(dns.message.make_query(qname, t), HOST, port=DNS_PORT, timeout=2)
        out[f"{qname} {t}"] = {
            "rcode": dns.rcode.to_text(r.rcode()),
            "answer": sorted(rr.to_text() for rr in r.answer),
            "authority": sorted(rr.to_text() for rr in r.authority),
        }
    return out


def choices():
    out = {}
    for qname, t in CHOICES:
        rcodes, seen = set(), set()
        for qid in range(CHOICE_IDS):
            q = dns.message.make_query(qname, t)
            q.id = qid
            r = dns.query.udp(q, HOST, port=DNS_PORT, timeout=2)
            rcodes.add(dns.rcode.to_text(r.rcode()))
            seen.update(line for rr in r.answer for line in rr.to_text().split("\n"))
        out[f"{qname} {t}"] = {"rcodes": sorted(rcodes), "records": sorted(seen)}
    return out


def main():
    out_dir = sys.argv[1]
    # hc-tcp.json's target (127.0.0.1:8082): up while the answers are
    # recorded, as test_upgrade.py keeps it (if taken: its holder answers).
    up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    up.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        up.bind(("127.0.0.1", 8082))
        up.listen(64)
    except OSError:
        pass
    work = tempfile.mkdtemp(prefix="q53-fixture-")
    data = os.path.join(work, "node1")
    newer = release() >= (0, 2, 0)
    v030 = release() >= (0, 3, 0)
    v040 = release() >= (0, 4, 0)
    # 0.2.0+: snapshots every 64 entries, keeping 64 behind them: the
    # tail_of_every_type entries (about 20) come after the last one.
    args = [os.environ["Q53D"], "--dns", f"{HOST}:{DNS_PORT}", "--workers", "1",
            "--data-dir", data, "--id", "1", "--raft", RAFT, "--api", API,
            "--snapshot-threshold", "64" if newer else "8", "--election-timeout", "600",
            "--heartbeat", "60", "--nameservers", "ns1.q53.test.,ns2.q53.test."]
    ADMIN_KEY.append(os.path.join(data, "admin-key"))
    if v030:
        args += ["--http", HTTP]  # the first boot draws DATA/admin-key
    proc = start(args, "n0" if newer else "n1")
    more = {}
    try:
        if v030:
            wait_file(ADMIN_KEY[0])
        z = q53("zone", "create", "example.com", "--comment", "upgrade fixture",
                "--caller-reference", "fixture-1")
        hc = q53("health", "create", os.path.join(SHARED, "hc-tcp.json"),
                 "--caller-reference", "fixture-hc")
        hcid = hc["HealthCheck"]["Id"]
        q53("change-batch", "example.com", os.path.join(SHARED, "batch-simple.json"))
        fo = open(os.path.join(SHARED, "batch-failover.json")).read()
        q53("change-batch", "example.com", "-", stdin=fo.replace("HC_PRIMARY_ID", hcid))
        for i in range(24):
            b = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": f"bulk{i}.example.com", "Type": "A" if i % 2 else "TXT", "TTL": 60 + i,
                "ResourceRecords": [{"Value": f"192.0.2.{i}" if i % 2 else f'"bulk {i}"'}]}}]}
            q53("change-batch", "example.com", "-", stdin=json.dumps(b))
        q53("zone", "create", "imported.test")
        zone_text = ("$TTL 300\n@ SOA ns1.q53.test. hostmaster.imported.test. 2024010101 7200 900 1209600 86400\n"
                     "@ NS ns1.q53.test.\n@ NS ns2.q53.test.\nhost A 198.51.100.1\nhost A 198.51.100.2\n"
                     "alias CNAME host\nsub NS ns.sub\nns.sub A 198.51.100.53\n")
        q53("zone", "import", "imported.test", "-", stdin=zone_text)
        q53("health", "update", hcid, "-", stdin=json.dumps({"FailureThreshold": 2}))
        # The tail after the last snapshot: more batches (threshold 8).
        q53("change-batch", "example.com", os.path.join(SHARED, "batch-upsert-delete.json"))
        q53("change-batch", "example.com", "-", stdin=json.dumps({"Changes": [{"Action": "CREATE",
            "ResourceRecordSet": {"Name": "tail.example.com", "Type": "A", "TTL": 5,
                                  "ResourceRecords": [{"Value": "203.0.113.5"}]}}]}))
        QUERIES.append(("tail.example.com.", "A"))
        if v040:
            EARLY_CIDR.append(early_0_4_0())
        if newer:
            proc = tail_of_every_type(args, proc)
            QUERIES.extend([("gone.test.", "SOA"), ("tail2.example.com.", "AAAA"),
                            ("www.late.test.", "A"), ("late.test.", "SOA")])
        if v030:
            more = tail_of_0_3_0(z["HostedZone"]["Id"], hcid, work)
        if v040:
            # 0.4.0's types after the last snapshot (that one holds
            # 0.3.0's, which the v0.3.0 fixture has in its log tail).
            pad_to_snapshot()
            more.update(tail_of_0_4_0(z["HostedZone"]["Id"], work))
        if v030:
            more["choices"] = choices()
        expected = {"zones": q53("zone", "list"), "health": q53("health", "list"),
                    "answers": answers(), "zone_id": z["HostedZone"]["Id"], "check_id": hcid,
                    **more}
    finally:
        stop(proc)
    os.makedirs(out_dir, exist_ok=True)
    with tarfile.open(os.path.join(out_dir, "node1.tar.gz"), "w:gz") as t:
        t.add(data, arcname="node1")
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

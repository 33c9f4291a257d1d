#!/usr/bin/env python3
"""Seeds for fuzz_xfr (tests/fuzz/corpus/xfr/): the first byte is the
target's mode (bit 7: a NOTIFY answer; bit 6: an AXFR answer stream; bit 5: an
UPDATE applied to an FSM; bit 0: over TCP; bit 1: refused;
bits 2-5: records to add), the rest a message. Written with dnspython:
signed and unsigned AXFR / IXFR / SOA requests (the fuzzer's fixed key and
a wrong one), and nasty ones: TSIG not last, two TSIGs, compression loops,
truncated records, a question of 0 labels, a NOTIFY answer; an RFC 2136 UPDATE."""
import os
import struct

import dns.flags
import dns.message
import dns.rrset
import dns.tsigkeyring
import dns.update

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "xfr")
KEY = dns.tsigkeyring.from_text({"fuzz.": ("hmac-sha256",
                                           "cTUzLWZ1enoteGZyLXNlY3JldC0wMTIzNDU2Nzg5YWI=")})
BAD = dns.tsigkeyring.from_text({"fuzz.": ("hmac-sha256",
                                           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")})


def q(qtype, key=None, soa=False, zone="example.test."):
    m = dns.message.make_query(zone, qtype)
    if soa:
        m.authority.append(dns.rrset.from_text(
            zone, 300, "IN", "SOA", "ns1.example.test. h.example.test. 7 1 1 1 1"))
    if key is not None:
        m.use_tsig(key, keyname="fuzz.", algorithm="hmac-sha256")
    return m.to_wire()


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        "axfr-signed": b"\x11" + q("AXFR", KEY),
        "axfr-badkey": b"\x05" + q("AXFR", BAD),
        "axfr-unsigned": b"\x09" + q("AXFR"),
        "ixfr-signed": b"\x0d" + q("IXFR", KEY, soa=True),
        "ixfr-nosoa": b"\x01" + q("IXFR", KEY),
        "soa-udp-signed": b"\x04" + q("SOA", KEY),
        "soa-refused": b"\x02" + q("SOA", KEY),
        "many-records": b"\x3d" + q("AXFR", KEY),
        "notify-answer": b"\x80" + bytes.fromhex("1234a4000001000000000000")
                         + b"\x07example\x04test\x00\x00\x06\x00\x01",
    }
    w = q("AXFR", KEY)
    # TSIG followed by another record: TSIG must be last.
    seeds["tsig-not-last"] = b"\x01" + w[:10] + struct.pack("!H", 2) + w[12:] + \
        b"\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x7f\x00\x00\x01"
    # Two TSIGs.
    tsig = w[len(q("AXFR")):]
    seeds["two-tsigs"] = b"\x01" + w[:10] + struct.pack("!H", 2) + w[12:] + tsig
    # A compression loop in the question and in the additional section.
    seeds["loop-question"] = b"\x01" + bytes.fromhex("abcd00000001000000000000c00c00fc0001")
    seeds["loop-additional"] = b"\x01" + q("AXFR")[:10] + b"\x00\x01" + q("AXFR")[12:] + \
        bytes.fromhex("c01f00fa00ff0000000000ff")
    seeds["truncated-tsig"] = b"\x01" + w[:-7]
    seeds["root-question"] = b"\x01" + bytes.fromhex("000100000001000000000000" "0000fc0001")
    seeds["qr-set"] = b"\x01" + bytes([w[0], w[1], w[2] | 0x80]) + w[3:]
    seeds["opcode-notify"] = b"\x01" + bytes([w[0], w[1], 0x24]) + w[3:]
    seeds["empty"] = b"\x00"
    # AXFR answer streams for the CLI's client (mode bit 6): messages with
    # their 2-byte lengths, answering id 0x1234 for example.test.
    def answer(records, rcode=0, qid=0x1234):
        m = dns.message.Message(id=qid)
        m.flags |= dns.flags.QR | dns.flags.AA
        m.set_rcode(rcode)
        for text in records:
            name, ttl, rtype, rdata = text.split(" ", 3)
            m.answer.append(dns.rrset.from_text(name, int(ttl), "IN", rtype, rdata))
        w = m.to_wire()
        return struct.pack("!H", len(w)) + w

    SOA = "example.test. 300 SOA ns1.example.test. h.example.test. 9 1 1 1 1"
    A = "www.example.test. 300 A 192.0.2.1"
    seeds["in-whole"] = b"\x40" + answer([SOA, A, "example.test. 300 NS ns1.example.test.",
                                          'txt.example.test. 60 TXT "a b" "c"', SOA])
    seeds["in-two-messages"] = b"\x40" + answer([SOA, A]) + answer([A.replace("www", "w2"), SOA])
    seeds["in-refused"] = b"\x40" + answer([], rcode=5)
    seeds["in-outside"] = b"\x40" + answer([SOA, "www.example.org. 300 A 192.0.2.1", SOA])
    seeds["in-no-soa-first"] = b"\x40" + answer([A, SOA])
    seeds["in-after-close"] = b"\x40" + answer([SOA, SOA, A])
    seeds["in-wrong-id"] = b"\x40" + answer([SOA, A, SOA], qid=7)
    seeds["in-cut"] = b"\x40" + answer([SOA, A, SOA])[:-9]
    seeds["in-unsigned-wanted"] = b"\x41" + answer([SOA, A, SOA])
    u = dns.update.UpdateMessage("example.test.")
    u.present("www.example.test.")
    u.absent("new.example.test.", "A")
    u.add("new.example.test.", 300, "A", "192.0.2.5")
    u.delete("old.example.test.")
    u.delete("www.example.test.", "A", "192.0.2.1")
    seeds["update-unsigned"] = b"\x01" + u.to_wire()
    seeds["update-apply"] = b"\x20" + u.to_wire()
    v = dns.update.UpdateMessage("example.test.")
    v.present("www.example.test.", "A", "192.0.2.1")
    v.add("www.example.test.", 60, "TXT", '"a"')
    v.delete("example.test.", "NS")
    v.delete("example.test.")
    v.add("example.test.", 60, "SOA", "a. b. 99 1 1 1 1")
    seeds["update-apply-apex"] = b"\x20" + v.to_wire()
    u.use_tsig(KEY, keyname="fuzz.", algorithm="hmac-sha256")
    seeds["update-signed"] = b"\x00" + u.to_wire()
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the checked-in seeds of fuzz_fsm_log (tests/fuzz/corpus/fsm_log/):
sequences of Raft log entries (node/raft/fsm_log.h framing), each as a
little-endian u16 length and the entry: format-1 commands with and without
sessions, retries, format-2 batches, malformed and newer-format entries.

Deterministic. Usage: tests/fuzz/make_corpus_fsm_log.py [OUTDIR]
(default: tests/fuzz/corpus/fsm_log)
"""
import os
import shutil
import struct
import sys

APPEND = 1


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def frame(ctype, client, request, payload, fmt=1):
    return pad8(struct.pack("<BBHIQQ", fmt, 0, ctype, len(payload), client, request) + payload)


def batch(frames, count=None, fmt=2):
    return struct.pack("<BBHI", fmt, 0, 0, len(frames) if count is None else count) + b"".join(frames)


def seq(*entries):
    return b"".join(struct.pack("<H", len(e)) + e for e in entries)


def cmd(client, request, ident, n=8):
    return frame(APPEND, client, request, struct.pack("<Q", ident)[:n] + b"x" * max(0, n - 8))


SEEDS = {
    "single": seq(cmd(1, 1, 101)),
    "no-session": seq(frame(APPEND, 0, 0, b"abc")),
    "retry-and-stale": seq(cmd(1, 1, 101), cmd(1, 1, 101), cmd(1, 2, 102), cmd(1, 1, 101)),
    "rejected-type": seq(frame(99, 2, 1, b"")),
    "batch": seq(batch([cmd(1, 1, 1), cmd(2, 1, 2), cmd(1, 2, 3, 13)])),
    "batch-dup-inside": seq(batch([cmd(1, 1, 1), cmd(1, 1, 1), cmd(1, 2, 2)])),
    "batch-evicts": seq(batch([cmd(c, 1, c) for c in range(1, 8)])),
    "batch-of-one": seq(batch([cmd(3, 1, 3)])),
    "mixed": seq(cmd(1, 1, 1), batch([cmd(2, 1, 2), cmd(1, 2, 3)]), frame(APPEND, 0, 0, b"z" * 9),
                 batch([cmd(1, 2, 3), cmd(2, 2, 4)])),
    "bad-padding": seq(frame(APPEND, 1, 1, b"abc")[:-1] + b"\x01"),
    "bad-count": seq(batch([cmd(1, 1, 1), cmd(2, 1, 2)], count=3)),
    "batch-no-session": seq(batch([cmd(1, 1, 1), frame(APPEND, 0, 0, b"q")])),
    "nested-batch": seq(batch([batch([cmd(1, 1, 1)])])),
    "format-0": seq(frame(APPEND, 1, 1, b"abcdefgh", fmt=0)),
    "newer-format": seq(cmd(1, 1, 1), frame(APPEND, 1, 2, b"abcdefgh", fmt=3), cmd(1, 3, 3)),
    "newer-batch-format": seq(batch([cmd(1, 1, 1)], fmt=9)),
    "truncated": seq(batch([cmd(1, 1, 1), cmd(2, 1, 2)])[:-5]),
    "empty": b"",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "fsm_log")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
    print(f"make_corpus_fsm_log: {len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()

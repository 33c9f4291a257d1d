#!/usr/bin/env python3
"""The include graph of the tree has no circles and respects the layers.

A module is a .c and its .h (node/api/zone_api.{c,h}); a private header
X_impl.h is a module of its own that may include its public X.h (that edge
does not count); an edge A -> B means
a file of A includes B's header. Fails (exit 1) on:
  - a circle between modules (A includes B, B includes ... A);
  - a circle between folders of node/ other than through the runtime's
    contract node/runtime/cluster_ops.h (node/api and node/runtime are
    the two halves of the runtime; both build on that header);
  - a layer break: node/common includes only node/common; cluster/
    includes only cluster/, node/common and proto/; cluster/cli includes
    only cluster/ and proto/ (it links q53_cluster only); node/dnsdata
    includes nothing of dns/ or zone/.
Usage: check_includes.py [SOURCE_DIR]"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
CONTRACT = "node/runtime/cluster_ops"


def files():
    for top in ("node", "cluster"):
        for d, _, fs in os.walk(os.path.join(ROOT, top)):
            for f in fs:
                if f.endswith((".c", ".h")):
                    p = os.path.relpath(os.path.join(d, f), ROOT)
                    yield p


def module(path):
    return os.path.splitext(path)[0]


def cycle(graph):
    """One circle of graph ({node: set(nodes)}) as a list, or None."""
    state, stack = {}, []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state:
                c = visit(w)
                if c:
                    return c
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            c = visit(v)
            if c:
                return c
    return None


def main():
    mods, dirs, errors = {}, {}, []
    for p in files():
        text = open(os.path.join(ROOT, p), encoding="utf-8").read()
        for inc in INC.findall(text):
            if not inc.startswith(("node/", "cluster/", "proto/")):
                continue
            a, b = module(p), module(inc)
            if a != b and a != b + "_impl":
                mods.setdefault(a, set()).add(b)
            da, db = os.path.dirname(p), os.path.dirname(inc)
            if da != db and b != CONTRACT and da.startswith("node/"):
                dirs.setdefault(da, set()).add(db)
            if da == "node/common" and db != "node/common":
                errors.append(f"{p}: node/common includes {inc}")
            if da == "cluster" and not (db in ("cluster", "node/common")
                                        or db.startswith("proto")):
                errors.append(f"{p}: cluster/ includes {inc}")
            if da.startswith("cluster/cli") and not (
                    db.startswith("cluster") or db.startswith("proto")):
                errors.append(f"{p}: the CLI includes {inc}")
            if da == "node/dnsdata" and db in ("node/dns", "node/zone"):
                errors.append(f"{p}: node/dnsdata includes {inc}")
    c = cycle(mods)
    if c:
        errors.append("module circle: " + " -> ".join(c))
    c = cycle(dirs)
    if c:
        errors.append("folder circle: " + " -> ".join(c))
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"include graph: {len(mods)} modules, no circles, layers kept")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

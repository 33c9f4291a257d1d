#!/usr/bin/env bash
# Route 53 REST API vs the internal NNG path (tests/bench/route53_http.py):
# single-record ChangeResourceRecordSets/s on 3 nodes with one optimised
# build, in the same run. Usage: tests/bench/run_route53.sh [--smoke] [opts]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/cluster-rel}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target q53d q53 >/dev/null
exec /usr/bin/python3 tests/bench/route53_http.py --q53d "$build/q53d" "$@"

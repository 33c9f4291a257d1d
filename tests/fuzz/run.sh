#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan/UBSan into build/fuzz and runs
# them, one process at a time (one core).
#
#   tests/fuzz/run.sh --smoke            every target, 30 s in all (CI)
#   tests/fuzz/run.sh [--minutes N]      long campaign, N minutes in all,
#                                        shared between the targets (def. 30)
#   ... --target fuzz_query              only that target (repeatable)
#   ... --no-build                       use the binaries already built
#
# The checked-in seeds (tests/fuzz/corpus/<name>/) are only read: new inputs
# go to build/fuzz/corpus/<target>/ (long runs, kept between runs) or to a
# fresh build/fuzz/smoke-corpus/<target>/ (smoke). Crashes, leaks, timeouts
# and OOMs are written to build/fuzz/artifacts/ and make the script exit 1;
# smoke stops a target at its first one, a long campaign (libFuzzer fork mode,
# one job at a time) saves it and goes on. Logs: build/fuzz/logs/.
# Reproduce one with: build/fuzz/tests/fuzz/<target> <artifact>
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
build=$top/build/fuzz
all_targets=(fuzz_query fuzz_zone fuzz_raft_msg fuzz_change_batch fuzz_rdata_text
             fuzz_api_request fuzz_command_decode fuzz_snapshot_restore
             fuzz_health_config fuzz_fsm_log fuzz_route53_xml fuzz_sigv4
             fuzz_iam_policy fuzz_route53_route fuzz_q53_api fuzz_traffic_policy
             fuzz_xfr
             fuzz_zone_import)

mode=long
minutes=30
targets=()
do_build=1
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) mode=smoke ;;
    --minutes) minutes=${2:?--minutes needs a number}; shift ;;
    --target) targets+=("${2:?--target needs a name}"); shift ;;
    --no-build) do_build=0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in
    *" $t "*) ;;
    *) echo "run.sh: unknown target $t (have: ${all_targets[*]})" >&2; exit 2 ;;
  esac
done
case $minutes in
  ''|*[!0-9]*|0) echo "run.sh: --minutes wants a positive integer" >&2; exit 2 ;;
esac

if [ "$do_build" = 1 ]; then
  echo "== fuzz build (clang, ASan+UBSan+libFuzzer) in build/fuzz"
  CC=clang cmake -S . -B "$build" -DQ53_FUZZ=ON -DQ53_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build "$build" -j"${Q53_FUZZ_BUILD_JOBS:-$(nproc)}" \
    --target "${targets[@]}"
fi

if [ "$mode" = smoke ]; then
  total_s=30
else
  total_s=$((minutes * 60))
fi
per_s=$((total_s / ${#targets[@]}))
[ "$per_s" -ge 1 ] || per_s=1

# abort_on_error stays off: libFuzzer reports and saves the input itself.
export ASAN_OPTIONS=${Q53_FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

art=$build/artifacts
mkdir -p "$art" "$build/logs"
marker=$build/logs/.started-$$
touch "$marker"
trap 'rm -f "$marker"' EXIT
failed=0
total_execs=0
summary=()

for t in "${targets[@]}"; do
  seeds=$top/tests/fuzz/corpus/${t#fuzz_}
  case $t in
    fuzz_query) max_len=4096 ;;
    fuzz_zone) max_len=16384 ;;
    fuzz_zone_import) max_len=16384 ;;
    fuzz_raft_msg) max_len=8192 ;;
    fuzz_change_batch) max_len=16384 ;;
    fuzz_rdata_text) max_len=4096 ;;
    fuzz_command_decode) max_len=16384 ;;
    fuzz_snapshot_restore) max_len=65536 ;;
    fuzz_health_config) max_len=4096 ;;
    fuzz_route53_xml) max_len=16384 ;;
    fuzz_sigv4) max_len=4096 ;;
    fuzz_iam_policy) max_len=12288 ;;
    fuzz_q53_json_body) max_len=65536 ;;
    *) max_len=8192 ;;
  esac
  if [ "$mode" = smoke ]; then
    work=$build/smoke-corpus/$t
    rm -rf "$work"
    extra=()
  else
    work=$build/corpus/$t
    # Fork mode (still one process at a time, so one core): a crash is
    # saved and fuzzing goes on instead of ending the campaign.
    extra=(-use_value_profile=1 -fork=1 -ignore_crashes=1 -ignore_timeouts=1
           -ignore_ooms=1)
  fi
  mkdir -p "$work"
  [ -d "$seeds" ] || seeds=$work # a target without checked-in seeds yet
  log=$build/logs/$t-$mode.log
  echo "== $t: ${per_s}s, seeds $seeds, new corpus -> $work, log $log"
  before=$(find "$art" -maxdepth 1 -type f -name "$t-*" | wc -l)
  set +e
  # Only the first corpus directory is written to.
  "$build/tests/fuzz/$t" "$work" "$seeds" \
    -dict="$top/tests/fuzz/dict/dns.dict" \
    -max_total_time="$per_s" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$art/$t-" "${extra[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  [ -n "$execs" ] || # fork mode prints no final stats: its last "#N: cov:" line
    execs=$({ grep -E '^#[0-9]+: cov: ' "$log" || true; } | tail -n1 |
            sed -E 's/^#([0-9]+):.*/\1/')
  cov=$({ grep -E '^#[0-9]+.*cov: ' "$log" || true; } | tail -n1 |
        sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/')
  files=$(find "$work" -type f | wc -l)
  bytes=$(du -sb "$work" | cut -f1)
  after=$(find "$art" -maxdepth 1 -type f -name "$t-*" | wc -l)
  total_execs=$((total_execs + ${execs:-0}))
  line="$t: rc=$rc execs=${execs:-?} ${cov:-cov: ? ft: ?} new-corpus=${files} files/${bytes} B"
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    failed=1
    line="$line  FAILED"
    echo "---- $t failed (rc=$rc); end of $log:"
    { grep -E -A60 '^==[0-9]+==ERROR|runtime error|^\*\*\* |^fuzz_[a-z_]+:|deadly signal|Test unit written' "$log" || tail -n 40 "$log"; } | head -n 120
    echo "---- reproduce: $build/tests/fuzz/$t <artifact below>"
  fi
  summary+=("$line")
  echo "$line"
done

echo "== fuzz summary ($mode, ${total_s}s)"
for l in "${summary[@]}"; do echo "  $l"; done
echo "  total execs: $total_execs"
crashes=$(find "$art" -maxdepth 1 -type f -newer "$marker" | sort)
if [ -n "$crashes" ]; then
  echo "  new artifacts (crash/leak/timeout/oom inputs) in $art:"
  echo "$crashes" | sed 's/^/    /'
else
  echo "  new artifacts: none"
fi
exit "$failed"

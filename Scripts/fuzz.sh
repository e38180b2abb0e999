#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets of the Fuzz/ package (release, every module compiled with
# -sanitize=fuzzer,address) and runs each for a bounded time over its committed seed corpus
# Fuzz/corpus/<target>/, with Fuzz/dict/<target>.dict when there is one. New inputs go to a
# scratch corpus and any crash, hang or OOM input to an artifacts folder, both under
# $KIMI_FUZZ_WORK (default Fuzz/.build/fuzz-work/<target>/), never into the committed corpus.
#
#   Scripts/fuzz.sh [--seconds N] [--runs N] [--timeout S] [--max-len BYTES] [target ...]
#
# Targets are the folders Fuzz/Sources/fuzz-*; none named means all of them. --seconds is each
# target's -max_total_time (default 60; 0 = no limit, with --runs), --runs a number of inputs
# after which a target stops (libFuzzer's -runs). Prints one line per target (inputs, seconds,
# crashes, hangs, OOMs) and exits non-zero when any target found one, naming the input kept.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60 runs="" timeout=10 max_len=8192 rss_limit_mb=2048
targets=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --max-len) max_len="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

all=()
for d in Fuzz/Sources/fuzz-*/; do all+=("$(basename "$d")"); done
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  if [ ! -d "Fuzz/Sources/$t" ]; then
    echo "fuzz.sh: no target '$t' (have: ${all[*]})" >&2
    exit 2
  fi
done

# --sanitize fuzzer makes SwiftPM link libFuzzer's main (without it SwiftPM points main at the
# target's own entry point, which a fuzz target has none of) but, in SwiftPM 6.3, instruments
# little of the code for coverage; -Xswiftc -sanitize=fuzzer,address instruments every Swift
# module, the root package's included.
build=(swift build --package-path Fuzz -c release --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address)
echo "== fuzz: building ${all[*]} (${build[*]})"
build_start=$(date +%s)
# gold warns once per ASan register helper at every link ("Cannot export local symbol
# '__asan_check_load_add_8_R13'"): harmless, and hundreds of lines. The build's own status
# still decides (pipefail).
"${build[@]}" 2>&1 | { grep -v "warning: Cannot export local symbol '__asan_" || true; }
bin=$("${build[@]}" --show-bin-path)
echo "== fuzz: built in $(( $(date +%s) - build_start )) s"

work=${KIMI_FUZZ_WORK:-Fuzz/.build/fuzz-work}
# Swift's crash backtracer reads the crashed thread's stack, which ASan reports as a second,
# misleading error; libFuzzer prints the stack of a trap itself.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
failed=0 passed=0
summary=()
for t in "${targets[@]}"; do
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  log="$dir/last-run.log"
  stamp="$dir/.started"
  touch "$stamp"
  options=(-max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_limit_mb" -max_len="$max_len"
           -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  [ -n "$runs" ] && options+=(-runs="$runs")
  [ -f "Fuzz/dict/$t.dict" ] && options+=(-dict="Fuzz/dict/$t.dict")
  echo "== fuzz: $t ${options[*]} $dir/corpus Fuzz/corpus/$t"
  start=$(date +%s.%N)
  set +e
  "$bin/$t" "${options[@]}" "$dir/corpus" "Fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  set -e
  elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

  # libFuzzer's final stats; a run cut short by a signal may only have its '#N' progress lines.
  inputs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  [ -z "$inputs" ] && inputs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
  new_units=$(sed -n 's/^stat::new_units_added: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  count() { find "$dir/artifacts" -maxdepth 1 -type f -newer "$stamp" \( "$@" \) | wc -l; }
  crashes=$(count -name 'crash-*' -o -name 'leak-*' -o -name 'deadly-*')
  hangs=$(count -name 'timeout-*')
  ooms=$(count -name 'oom-*')
  if [ "$status" -ne 0 ] && [ $((crashes + hangs + ooms)) -eq 0 ]; then
    crashes=1  # libFuzzer failed without writing an input (e.g. the target could not start)
  fi
  if grep -q "Is the code instrumented for coverage" "$log"; then
    echo "$t: libFuzzer sees no coverage: the build is not instrumented" >&2
    status=1
  fi
  line=$(printf '%-20s %10s inputs in %7s s, %s crashes, %s hangs, %s OOMs (%s new inputs)' \
    "$t" "${inputs:-?}" "$elapsed" "$crashes" "$hangs" "$ooms" "${new_units:-?}")
  summary+=("$line")
  echo "$line"
  if [ "$status" -ne 0 ] || [ $((crashes + hangs + ooms)) -ne 0 ]; then
    failed=$((failed + 1))
    echo "---- $t failed (libFuzzer exit $status); from its log $log:"
    grep -E -m 6 'Fatal error|ERROR: |SUMMARY: |Slowest unit|rss limit' "$log" || true
    echo "---- the end of that log:"
    tail -n 25 "$log"
    echo "----"
    find "$dir/artifacts" -maxdepth 1 -type f -newer "$stamp" | while read -r input; do
      echo "$t: input kept at $input (reproduce: $bin/$t $input)"
    done
  else
    passed=$((passed + 1))
  fi
done

echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Soak: runs any number of seeds of the simulator's scenarios, several at a time, and prints
# every failing seed with the first thing that failed and the command that replays it. Unlike
# MADSIM_TEST_NUM, which stops at the first failure, every seed runs.
#
#   bash sim-tests/soak.sh [--seeds N] [--from S] [--jobs J] [scenario ...]
#
# Defaults: 100 seeds from 1, one job per core, every scenario in sim-tests/tests (teeth and
# determinism excepted). Exits 1 if any seed failed. Logs of failing seeds stay in
# target/sim/soak/<scenario>-<seed>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=100 from=1 jobs=$(nproc) scenarios=()
while (($#)); do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "soak: unknown option $1" >&2; exit 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
if ((${#scenarios[@]} == 0)); then
  for f in sim-tests/tests/*.rs; do
    s=$(basename "$f" .rs)
    [[ $s == teeth || $s == determinism ]] || scenarios+=("$s")
  done
fi

export RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/sim
args=()
for s in "${scenarios[@]}"; do args+=(--test "$s"); done
echo "soak: building ${scenarios[*]}" >&2
# One build: its errors go to stderr, and the test binary of each scenario, as cargo names it,
# is read from its messages.
declare -A bin
while read -r s path; do bin[$s]=$path; done < <(
  cargo test -p binraft-sim-tests --locked --no-run --message-format=json "${args[@]}" |
    python3 -c 'import json,sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-message" and m["message"]["level"] == "error":
        sys.stderr.write(m["message"].get("rendered") or m["message"]["message"])
    elif m.get("reason") == "compiler-artifact" and m.get("executable") and "test" in m["target"]["kind"]:
        print(m["target"]["name"], m["executable"])')
out=target/sim/soak
mkdir -p "$out"

one() { # scenario seed binary
  local log="$out/$1-$2.log"
  if MADSIM_TEST_SEED=$2 MADSIM_TEST_NUM=1 "$3" --nocapture --test-threads=1 >"$log" 2>&1; then
    grep -m1 -oE 'seed [0-9]+: .*' "$log" | sed "s/^/ok   $1 /"
    rm -f "$log"
  else
    local why
    why=$(grep -m1 -oE 'seed [0-9]+: .*' "$log" || grep -m1 -A1 'panicked at' "$log" | tail -1 || true)
    echo "FAIL $1 seed $2: ${why:0:300}"
    echo "     replay: MADSIM_TEST_SEED=$2 RUSTFLAGS=\"--cfg madsim\" CARGO_TARGET_DIR=target/sim cargo test -p binraft-sim-tests --test $1 (log: $log)"
  fi
}
export -f one
export out

start=$(date +%s)
for s in "${scenarios[@]}"; do
  [[ -n ${bin[$s]:-} ]] || { echo "soak: no test binary for $s (did the build fail?)" >&2; exit 2; }
done
results=$(for s in "${scenarios[@]}"; do
  for ((n = from; n < from + seeds; n++)); do echo "$s $n ${bin[$s]}"; done
done | xargs -P "$jobs" -L 1 bash -c 'one "$@"' _ | tee /dev/stderr)
wall=$(($(date +%s) - start))
runs=$(grep -c -E '^(ok|FAIL) ' <<<"$results" || true)
fails=$(grep -c '^FAIL ' <<<"$results" || true)
sim_s=$({ grep -E '^ok ' <<<"$results" || true; } | grep -oE '[0-9.]+ simulated s' | awk '{s += $1} END {printf "%.0f", s}')
echo
echo "soak: $runs seed runs of ${#scenarios[@]} scenario(s) in ${wall} s on $jobs job(s): $fails failed; $(awk -v r="$runs" -v w="$wall" 'BEGIN {printf "%.1f", r * 60 / (w > 0 ? w : 1)}') seeds/min, ${sim_s:-0} simulated s ($(awk -v s="${sim_s:-0}" -v w="$wall" 'BEGIN {printf "%.1f", s / (w > 0 ? w : 1)}')x real time over all jobs)"
if ((fails > 0)); then
  echo "soak: the failing seeds:"
  grep -A1 '^FAIL ' <<<"$results"
  exit 1
fi

#!/usr/bin/env bash
# Runs the feed, chaos and diff tests (issue 13's stability set) N times in a row with one of the machine's cores kept
# busy by a spinning node process, and prints per iteration: pass or fail, the wall time, the load average after it,
# and the names of the failing tests. Exit 0 only when every iteration passed.
#
#   bash scripts/parity-loop.sh        # 10 iterations
#   bash scripts/parity-loop.sh 3      # 3 iterations
#
# Each iteration's vitest output is kept in $PARITY_LOOP_DIR (default: a fresh temporary folder), printed at the end.
set -u
cd "$(dirname "$0")/.."

ITERATIONS="${1:-10}"
OUT="${PARITY_LOOP_DIR:-$(mktemp -d -t parity-loop-XXXXXX)}"
mkdir -p "$OUT"

# The set: every live-feed test, every parity test (chaos, diff, counterfactual, stale, not-acted...), and the
# simulator's fault tests.
TESTS=(
  test/feeds/closed-candles.test.ts
  test/feeds/exchange-clock.test.ts
  test/feeds/exchange-restart.test.ts
  test/feeds/live-feed-rest-faults.test.ts
  test/feeds/live-feed-seam.test.ts
  test/feeds/live-feed-stream-faults.test.ts
  test/feeds/recorded-session.test.ts
  test/feeds/rest-malformed-rows.test.ts
  test/parity/actions-counterfactual.test.ts
  test/parity/chaos.test.ts
  test/parity/counterfactual.test.ts
  test/parity/diff.test.ts
  test/parity/not-acted.test.ts
  test/parity/stale.test.ts
  test/sim/faults.test.ts
)

# The other core: a busy loop, stopped on any exit of this script.
node -e 'for(;;){}' &
SPINNER=$!
trap 'kill "$SPINNER" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

passed=0
streak=0
best=0
for ((i = 1; i <= ITERATIONS; i++)); do
  json="$OUT/iteration-$i.json"
  started=$(date +%s)
  npx vitest run "${TESTS[@]}" --reporter=default --reporter=json --outputFile.json="$json" >"$OUT/iteration-$i.log" 2>&1
  rc=$?
  seconds=$(($(date +%s) - started))
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    streak=$((streak + 1))
    ((streak > best)) && best=$streak
    echo "iteration $i: pass (${seconds} s, load $load)"
  else
    streak=0
    echo "iteration $i: FAIL (${seconds} s, load $load, exit $rc)"
    if [[ -s "$json" ]]; then
      node -e '
        const report = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
        for (const file of report.testResults) {
          const failed = file.assertionResults.filter((t) => t.status === "failed");
          for (const t of failed) console.log(`  failed: ${file.name.replace(process.cwd() + "/", "")} > ${t.fullName}`);
          if (failed.length === 0 && file.status === "failed") console.log(`  failed: ${file.name.replace(process.cwd() + "/", "")} (${file.message})`);
        }' "$json"
    else
      echo "  (no JSON report: see $OUT/iteration-$i.log)"
    fi
  fi
done
echo "$passed of $ITERATIONS passed, at most $best in a row; logs in $OUT"
[[ $passed -eq $ITERATIONS ]]

#!/usr/bin/env bash
# test.sh: every test of the module, with the race detector. The log keeps
# one line per package, the store conformance suite's result per store (and
# which PostgreSQL and pgvector it ran on), and a closing count of every test
# and subtest. Run it through scripts/with-postgres.sh (as `make test` does)
# to include PostgreSQL; without BATON_TEST_DATABASE_URL the Postgres tests
# skip, unless BATON_REQUIRE_POSTGRES=1 makes that a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test -race -count=1 -v ./... >"$log" 2>&1
status=$?

if [[ $status -ne 0 ]]; then
	# Everything but the passing noise, so the failure is read in context.
	grep -vE '^ *(=== (RUN|PAUSE|CONT|NAME)|--- PASS)' "$log"
else
	grep -E '^(ok|\?) ' "$log"
	echo
	echo "== store conformance suite (baton.Store contract) =="
	grep -E '^(--- (PASS|SKIP|FAIL): TestConformance |ok +[^ ]+/store/(sqlite|postgres))|PostgreSQL [0-9.]+.*, pgvector' "$log" | sed 's/^ *//'
fi
# The example bot's eval suite, gated on its baseline: a change that makes
# the bot, its escalations or its routing worse than the committed
# baseline.json (beyond the suite's tolerances) fails the tests.
evalout=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$evalout"' EXIT
echo
echo "== eval: examples/evals against examples/evals/baseline.json =="
if go build -o "$evalout/baton" ./cmd/baton &&
	"$evalout/baton" eval run examples/evals --baseline examples/evals/baseline.json --report "$evalout/report"; then
	echo "eval gate: passed"
else
	echo "eval gate: FAILED (the report is the summary above; refresh the baseline only for a change meant to move it: examples/evals/README.md)"
	status=1
fi

passed=$(grep -cE '^ *--- PASS' "$log")
failed=$(grep -cE '^ *--- FAIL' "$log")
skipped=$(grep -cE '^ *--- SKIP' "$log")
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status

#!/usr/bin/env bash
# test.sh: every test of the module, with the race detector. The store
# packages run verbosely (filtered) so that the log shows the conformance
# suite passing against SQLite and PostgreSQL, and which pgvector it used.
# Run it through scripts/with-postgres.sh (as `make test` does) to include
# PostgreSQL; without BATON_TEST_DATABASE_URL the Postgres run skips, unless
# BATON_REQUIRE_POSTGRES=1 makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

stores=(./store/sqlite ./store/postgres)
mapfile -t others < <(go list ./... | grep -v -e '/store/sqlite$' -e '/store/postgres$')

go test -race -count=1 "${others[@]}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! go test -race -count=1 -v "${stores[@]}" >"$log" 2>&1; then
	cat "$log"
	exit 1
fi
echo "== store conformance suite (baton.Store contract) =="
grep -E '^(--- (PASS|SKIP|FAIL): [A-Za-z]+ |ok |FAIL)|PostgreSQL [0-9.]+.*, pgvector' "$log" | sed 's/^ *//'
passed=$(grep -cE '^ *--- PASS' "$log" || true)
skipped=$(grep -cE '^ *--- SKIP' "$log" || true)
echo "store tests: $passed passed, 0 failed, $skipped skipped"

#!/usr/bin/env bash
# bench-durable.sh: the webhook path's throughput on a durable PostgreSQL
# (fsync, synchronous_commit and full_page_writes on) next to its ceiling,
# pgbench running the same transaction shape (one message row and one job
# row per transaction, on Baton's own tables and indexes) at the same client
# counts, in the same run. Each rate is the median of BATON_BENCH_RUNS runs
# [7]; pgbench and the webhook benchmark alternate, and the ratio is the
# median of the ratios of neighbouring runs, so that other work on the
# machine, which comes and goes, weighs on both sides of each ratio.
#
# Run it through `BATON_PG_DURABLE=1 scripts/with-postgres.sh` (bench.sh
# does): it refuses a cluster that does not sync its commits.
set -euo pipefail
cd "$(dirname "$0")/.."

url=${BATON_TEST_DATABASE_URL:?run through BATON_PG_DURABLE=1 scripts/with-postgres.sh}
runs=${BATON_BENCH_RUNS:-7}
clients=${BATON_BENCH_CLIENTS:-1 4}
secs=${BATON_BENCH_SECONDS:-3}
webhooks=${BATON_BENCH_WEBHOOKS:-5000}

pgbin=$(pg_config --bindir 2>/dev/null || true)
pgbench=$(command -v pgbench || true)
[[ -z $pgbench && -x $pgbin/pgbench ]] && pgbench=$pgbin/pgbench
[[ -z $pgbench && -x /usr/lib/postgresql/15/bin/pgbench ]] && pgbench=/usr/lib/postgresql/15/bin/pgbench
[[ -n $pgbench ]] || {
	echo "bench-durable: pgbench not found (Debian: apt-get install postgresql-client-15)" >&2
	exit 1
}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$url" "$@"; }

settings=$(psql -At -c "SELECT current_setting('fsync') || current_setting('synchronous_commit') || current_setting('full_page_writes')")
if [[ $settings != ononon ]]; then
	echo "bench-durable: the cluster is not durable (fsync, synchronous_commit, full_page_writes = $settings); run it through BATON_PG_DURABLE=1 scripts/with-postgres.sh" >&2
	exit 1
fi

work=$(mktemp -d /tmp/baton-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The ceiling's tables are Baton's, made by Baton's migrations, with 500
# customers and conversations as the webhook benchmark has.
go build -o "$work/baton" ./cmd/baton
BATON_DATABASE_URL=$url "$work/baton" migrate >/dev/null 2>&1
psql <<'SQL'
INSERT INTO customers (bot_id, name, created_at, updated_at)
	SELECT 'acme', 'Customer ' || g, now(), now() FROM generate_series(1, 500) g;
INSERT INTO channel_identities (bot_id, channel, address, customer_id, created_at)
	SELECT 'acme', 'whatsapp', '1650555' || lpad(id::text, 4, '0'), id, now() FROM customers;
INSERT INTO conversations (bot_id, customer_id, channel, address, state, version, created_at, updated_at)
	SELECT 'acme', id, 'whatsapp', '1650555' || lpad(id::text, 4, '0'), 'bot', 1, now(), now() FROM customers;
SQL
cat >"$work/ingest.sql" <<'SQL'
\set conv random(1, 500)
BEGIN;
INSERT INTO messages (conversation_id, bot_id, channel, provider_id, direction, author, type, text, status, metadata, created_at, updated_at)
	VALUES (:conv, 'acme', 'whatsapp', 'wamid.pgbench.' || gen_random_uuid(), 'in', 'customer', 'text', 'Where is my order?', 'received',
		'{"raw_type":"text"}', now(), now());
INSERT INTO jobs (kind, conversation_id, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
	VALUES ('turn', :conv, 'turn:' || lastval(), json_build_object('message_id', lastval()), 'pending', now(), 0, 10, now(), now());
END;
SQL

go test -c -o "$work/app.test" ./app

runs_of() { sort -g "$1" | awk '{printf "%.0f\n", $1}' | paste -sd' '; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-8s %12s %12s %7s   %s\n' clients "webhook/s" "pgbench tx/s" ratio "(medians of $runs alternating runs; durable PostgreSQL)"
for c in $clients; do
	: >"$work/pg.$c"
	: >"$work/wh.$c"
	for _ in $(seq "$runs"); do
		psql -c 'TRUNCATE messages, jobs'
		"$pgbench" -n -M prepared -c "$c" -j "$c" -T "$secs" -f "$work/ingest.sql" "$url" 2>/dev/null |
			sed -n 's/^tps = \([0-9.]*\) .*/\1/p' >>"$work/pg.$c"
		BATON_BENCH_CONNS=$c "$work/app.test" -test.run '^$' -test.bench '^BenchmarkWebhook/postgres$' \
			-test.benchtime "${webhooks}x" -test.count 1 |
			awk '{for (i = 2; i <= NF; i++) if ($i == "webhooks/s") print $(i - 1)}' >>"$work/wh.$c"
	done
	[[ $(wc -l <"$work/pg.$c") -eq $runs && $(wc -l <"$work/wh.$c") -eq $runs ]] || {
		echo "bench-durable: a run printed no figure" >&2
		exit 1
	}
	pg=$(median <"$work/pg.$c")
	wh=$(median <"$work/wh.$c")
	ratio=$(paste "$work/wh.$c" "$work/pg.$c" | awk '{print $1 / $2}' | median)
	printf '%-8s %12.0f %12.0f %6.2fx   webhook runs: %s; pgbench runs: %s\n' "$c" "$wh" "$pg" "$ratio" \
		"$(runs_of "$work/wh.$c")" "$(runs_of "$work/pg.$c")"
done

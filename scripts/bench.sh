#!/usr/bin/env bash
# bench.sh: every speed, memory and quality figure the issues set targets for,
# on SQLite and (through scripts/with-postgres.sh, as `make bench` runs it)
# PostgreSQL. Each section names what it measures; figures are per-benchmark
# custom metrics (ops/s, p99, recall, accuracy, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n== %s ==\n' "$*"; }
bench() { go test -run '^$' -benchmem "$@" | grep -vE '^(goos|goarch|pkg|cpu):'; }

section "Stores: insert+enqueue and claim+complete (SQLite, PostgreSQL)"
bench -bench '^BenchmarkStore$' -benchtime 3s ./store/sqlite ./store/postgres
section "Stores: claims per second, AssignConversation by 1 and 8 claimers over 20 agents, with p50/p99 (SQLite; PostgreSQL durable, a cluster of its own)"
bench -bench '^BenchmarkAssign$' -benchtime 2000x ./store/sqlite
BATON_PG_DURABLE=1 scripts/with-postgres.sh go test -run '^$' -benchmem -bench '^BenchmarkAssign$' -benchtime 2000x ./store/postgres |
	grep -vE '^(goos|goarch|pkg|cpu):'
section "Human queue routing: 10,000 open conversations, 200 agents; decision p99 in memory after the store read (target 1 ms), end-to-end assign p99 with the store (target 10 ms) (SQLite; PostgreSQL on the throwaway cluster)"
bench -bench '^BenchmarkRouting$' -benchtime 2000x ./handoff
section "Human queue: the support metrics summary over 1,000 conversations (SQLite; PostgreSQL on the throwaway cluster)"
bench -bench '^BenchmarkSummarize$' -benchtime 5x ./handoff
section "Job worker pool"
bench -bench '^BenchmarkPool$' ./jobs
section "Webhooks: verified WhatsApp webhook -> stored -> 200 (bare fiber hello-world as the ceiling; throwaway cluster, commits not synced)"
BATON_BENCH_CONNS=${BATON_BENCH_CONNS:-4} bench -bench '^BenchmarkWebhook$' -benchtime 5000x ./app
section "Webhooks on a durable PostgreSQL: webhook -> durable -> 200 against pgbench's rate for the same transaction (a cluster of its own)"
BATON_PG_DURABLE=1 scripts/with-postgres.sh scripts/bench-durable.sh
section "NLU: Banking77, CLINC150, sentiment, language identification"
bench -bench . -benchtime 1x -timeout 30m ./nlu/nlueval
section "Evals: the Banking77 and CLINC150 dataset evals of a suite, training included (target 30 s each; 5 runs, read the median)"
bench -bench '^BenchmarkDataset' -benchtime 1x -count 5 -timeout 30m ./evals
section "NLU: classification and analysis latency, wants-human phrasings"
bench -bench '^BenchmarkClassify$' -benchtime 3s ./nlu/intent
bench -bench '^BenchmarkAnalyze$' ./nlu
bench -bench '^BenchmarkPhrasings$' -benchtime 1x ./nlu/wantshuman
section "NLU: resident memory with a 10-language bot"
bench -bench '^BenchmarkResidentMemory$' -benchtime 1x ./nlu
section "KB: StackFAQ retrieval and answers, import of 1,000 articles (SQLite, PostgreSQL)"
bench -bench '^(BenchmarkStackFAQ|BenchmarkImport1000)$' -benchtime 1x -timeout 30m ./kb
if [[ ${BATON_BENCH_SCALE:-1} == 1 ]]; then
	section "KB: 50,000-chunk scale (query latency, HNSW recall@10 against exact)"
	bench -bench '^BenchmarkScale$' -benchtime 1x -timeout 60m ./kb
fi
section "Bot turn: the example bot's whole offline turn (analysis, hybrid retrieval, policy, answer, its transaction) at 5,000 chunks, p50 and p99 against 5 ms and 15 ms (SQLite; PostgreSQL on the throwaway cluster, commits not synced)"
bench -bench '^BenchmarkTurn$/^chunks=5000$' -benchtime 1x -timeout 30m ./app
if [[ ${BATON_BENCH_SCALE:-1} == 1 ]]; then
	section "Bot turn at 50,000 chunks (reported, no target)"
	bench -bench '^BenchmarkTurn$/^chunks=50000$' -benchtime 1x -timeout 60m ./app
fi
section "Eval runs: 1,000 conversation cases offline through the real pipeline, each in a world of its own (target 30 s on 2 cores)"
bench -bench '^BenchmarkRun1000$' -benchtime 1x -timeout 30m ./evals
section "Demo: resident memory of the baton demo binary after 1,000 web chat conversations (ceiling 200 MB)"
bench -bench '^BenchmarkDemoMemory$' -benchtime 1x -timeout 30m ./cmd/baton

# Baton developer commands. `make demo` runs the example bot; `make test` runs
# every test on SQLite and, through scripts/with-postgres.sh, on a throwaway
# PostgreSQL with pgvector too.

GO      ?= go
BIN     ?= bin/baton
PKGS    ?= ./...
BENCH   ?= .

.PHONY: demo test lint bench build

demo:
	$(GO) run ./cmd/baton demo

# scripts/with-postgres.sh starts a throwaway PostgreSQL 15 cluster with
# pgvector (building the extension from Debian's source package when it is
# missing), exports BATON_TEST_DATABASE_URL and always removes the cluster;
# scripts/test.sh runs every package with -race and shows the conformance
# suite passing on both stores.
test:
	scripts/with-postgres.sh scripts/test.sh

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

# Every figure the issues set a target for, on both stores.
bench:
	scripts/with-postgres.sh scripts/bench.sh

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/baton

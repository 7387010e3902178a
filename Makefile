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

# The PostgreSQL test helper (scripts/with-postgres.sh) starts a throwaway
# cluster, exports BATON_TEST_DATABASE_URL and runs the command; the exact
# line is finalised with that script's recommendation.
test:
	scripts/with-postgres.sh $(GO) test -race -count=1 $(PKGS)

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKGS)

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/baton

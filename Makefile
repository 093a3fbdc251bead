# pgwiden developer tasks. `make test` is what CI runs (.ci/run).

GO ?= go

# Go files gofmt must accept; testdata may hold deliberately broken Go.
GO_FILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './vendor/*')

.DEFAULT_GOAL := build
.PHONY: build test test-matrix pg-bin bench demo lint vet fmt-check fmt

build:
	$(GO) build -o bin/pgwiden ./cmd/pgwiden

# The integration tests need a PostgreSQL server (integration/pgtest);
# pg-bin installs the distribution's binaries when none are found.
# `make test PG=13` runs them against PostgreSQL 13 instead, fetched once
# by scripts/pg-version.sh (12 to 18; docs/versions.md).
PG ?=

test: pg-bin lint
	$(PG_ENV) $(GO) test -race -count=1 -timeout 15m ./...

ifeq ($(PG),)
PG_ENV =
pg-bin:
	@bash scripts/ensure-postgres.sh
else
PG_ENV = PGWIDEN_PG_BIN="$$(bash scripts/pg-version.sh $(PG))"
pg-bin:
	@bash scripts/pg-version.sh $(PG) >/dev/null
endif

# The whole suite on every supported major version (scripts/test-matrix.sh:
# PG_MAJORS, MATRIX_JOBS, MATRIX_RACE); CI runs it after `make test`.
test-matrix: lint
	@bash scripts/test-matrix.sh

# The migration benchmark (integration/bench_test.go): pgbench -i -s
# PGWIDEN_BENCH_SCALE (default 50) data under a tpcb-like load, pgwiden against a
# plain ALTER TABLE ... TYPE bigint. Minutes, not seconds; run it on an idle
# machine. Figures: README, Benchmarks.
bench: pg-bin
	$(GO) test -v -run '^$$' -bench . -benchtime=1x -timeout 60m ./...

# demo starts a throwaway server found as the tests find theirs
# (internal/pgserver) and runs the freshly built bin/pgwiden against it.
demo: pg-bin build
	$(GO) run ./cmd/pgwiden-demo

lint: vet fmt-check

vet:
	$(GO) vet ./...

fmt-check:
	@files="$$(gofmt -l $(GO_FILES))"; \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

fmt:
	gofmt -w $(GO_FILES)

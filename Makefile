# pgwiden developer tasks. `make test` is what CI runs (.ci/run).

GO ?= go

# Go files gofmt must accept; testdata may hold deliberately broken Go.
GO_FILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './vendor/*')

.DEFAULT_GOAL := build
.PHONY: build test test-matrix test-citus pg-bin bench demo docs-samples docs-graph lint golangci-lint tidy-check vet fmt-check fmt

# golangci-lint is pinned and installed once into a cache outside the
# repository (per version, so a bump installs the new one beside it).
GOLANGCI_LINT_VERSION = v2.15.0
TOOLS_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/pgwiden-tools
GOLANGCI_LINT = $(TOOLS_DIR)/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint

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
	@bash scripts/ensure-pgbouncer.sh
else
PG_ENV = PGWIDEN_PG_BIN="$$(bash scripts/pg-version.sh $(PG))"
pg-bin:
	@bash scripts/pg-version.sh $(PG) >/dev/null
	@bash scripts/ensure-pgbouncer.sh
endif

# The whole suite on every supported major version (scripts/test-matrix.sh:
# PG_MAJORS, MATRIX_JOBS, MATRIX_RACE); CI runs it after `make test`.
test-matrix: lint
	@bash scripts/ensure-pgbouncer.sh
	@bash scripts/test-matrix.sh

# test-citus runs the tests built with -tags citus (integration/citus_*_test.go)
# on a single-node Citus cluster. Citus must already be installed in the
# PostgreSQL the tests find: this target never builds or installs it, and
# the run fails, saying so, when it is missing (docs/citus.md). CI cannot
# obtain Citus, so it does not run this target.
test-citus:
	$(GO) test -tags citus -race -count=1 -timeout 15m -run 'Citus' ./integration/

# The migration benchmark (integration/bench_test.go): pgbench -i -s
# PGWIDEN_BENCH_SCALE (default 50) data under a tpcb-like load, pgwiden against a
# plain ALTER TABLE ... TYPE bigint. Minutes, not seconds; run it on an idle
# machine. Figures: docs/performance.md.
bench: pg-bin
	$(GO) test -v -run '^$$' -bench . -benchtime=1x -timeout 60m ./...

# demo starts a throwaway server found as the tests find theirs
# (internal/pgserver) and runs the freshly built bin/pgwiden against it.
demo: pg-bin build
	$(GO) run ./cmd/pgwiden-demo

# docs-samples rewrites the sample output in README.md and docs/*.md, and
# the import graph of docs/architecture.md, from a real run of bin/pgwiden
# on a throwaway server (cmd/pgwiden-docs). Review the diff.
docs-samples: pg-bin build
	$(GO) run ./cmd/pgwiden-docs README.md docs/*.md

# docs-graph rewrites only the import graph (no server): after a package
# is added or an import changes.
docs-graph:
	$(GO) run ./cmd/pgwiden-docs -graph-only docs/architecture.md

# lint is what CI checks besides the tests; each part also runs alone
# (`make golangci-lint` re-runs only the linters, with their cache warm).
lint: vet fmt-check tidy-check golangci-lint

golangci-lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

$(GOLANGCI_LINT):
	GOBIN=$(dir $@) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# go.mod and go.sum must be what `go mod tidy` makes of them.
tidy-check:
	@$(GO) mod tidy -diff || { echo "run go mod tidy"; exit 1; }

vet:
	$(GO) vet ./...

fmt-check:
	@files="$$(gofmt -l $(GO_FILES))"; \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

fmt:
	gofmt -w $(GO_FILES)

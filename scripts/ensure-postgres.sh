#!/usr/bin/env bash
# ensure-postgres.sh makes sure the integration tests can find a PostgreSQL
# server, using roughly the discovery order of integration/pgtest. When none
# is there and we are root on a Debian-like system (CI, a fresh dev
# machine), it installs the distribution's postgresql package: CI machines
# are rebuilt from scratch, so whatever the tests need must be installed by
# the project itself. It never fails the build: pgtest itself fails the
# tests, with instructions, when it finds no server.
set -euo pipefail

have_server() {
	# A DSN or an explicit bin dir is the user's choice; pgtest checks it.
	[[ -n "${PGWIDEN_TEST_DSN:-}" || -n "${PGWIDEN_PG_BIN:-}" ]] && return 0
	local dir
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null || true)
		[[ -x "$dir/initdb" && -x "$dir/postgres" ]] && return 0
	fi
	for dir in /usr/lib/postgresql/*/bin; do
		[[ -x "$dir/initdb" && -x "$dir/postgres" ]] && return 0
	done
	return 1
}

if have_server; then
	exit 0
fi
if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-postgres: no PostgreSQL server binaries, and no root apt-get to install them." >&2
	echo "ensure-postgres: install your distribution's postgresql package, set PGWIDEN_PG_BIN or" >&2
	echo "ensure-postgres: PGWIDEN_TEST_DSN, or run a Docker engine; see integration/pgtest/doc.go." >&2
	exit 0
fi
echo "ensure-postgres: installing the distribution's postgresql package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends postgresql

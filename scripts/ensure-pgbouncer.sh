#!/usr/bin/env bash
# ensure-pgbouncer.sh makes sure the PgBouncer tests (integration/
# cli_pgbouncer_test.go) find the pgbouncer binary. When it is missing and
# we are root on a Debian-like system (CI, a fresh dev machine), it installs
# the distribution's pgbouncer package; apt's own cache makes a second run
# cheap. It never fails the build: the tests fail, with instructions, when
# pgbouncer is missing.
set -euo pipefail

if command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]]; then
	exit 0
fi
if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-pgbouncer: pgbouncer is not installed, and there is no root apt-get to install it:" >&2
	echo "ensure-pgbouncer: install your distribution's pgbouncer package for the PgBouncer tests." >&2
	exit 0
fi
echo "ensure-pgbouncer: installing the distribution's pgbouncer package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends pgbouncer || { apt-get update -q && apt-get install -y -q --no-install-recommends pgbouncer; }
# The package enables a system service; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now pgbouncer >/dev/null 2>&1 || true
fi

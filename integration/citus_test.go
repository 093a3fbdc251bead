//go:build citus

package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
)

var citusSchema = "testdata/citus/saas.sql"

// newCitusDB makes a single-node Citus cluster of a fresh database: the
// coordinator is registered as a node that holds shards, then the schema of
// testdata/citus/saas.sql is created and distributed.
func newCitusDB(t *testing.T) *pgtest.DB {
	t.Helper()
	db := pgtest.NewDB(t)
	cfg, err := pgx.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(t, `CREATE EXTENSION citus`)
	ctx := pgtest.Context(t)
	if _, err := db.Pool.Exec(ctx, `SELECT citus_set_coordinator_host($1, $2)`, cfg.Host, int(cfg.Port)); err != nil {
		t.Fatalf("citus_set_coordinator_host: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `SELECT citus_set_node_property($1, $2, 'shouldhaveshards', true)`, cfg.Host, int(cfg.Port)); err != nil {
		t.Fatalf("shouldhaveshards: %v", err)
	}
	db.ExecFile(t, citusSchema)
	return db
}

// TestCitusTopology: the catalog records each table's place in the
// cluster, as pg_dist_partition has it, and the sequences Citus propagates.
func TestCitusTopology(t *testing.T) {
	ctx := pgtest.Context(t)
	db := newCitusDB(t)
	snap := mustLoad(t, ctx, db.Pool)
	if snap.Citus == "" {
		t.Fatal("snapshot has no Citus version with the citus extension installed")
	}
	want := map[string]string{
		"companies": "distributed h id group>0 4 integer",
		"campaigns": "distributed h company_id group>0 4 integer",
		"ads":       "distributed h company_id group>0 4 integer",
		"countries": "reference n  group>0 1 ",
		"visits":    "citus-local n  group=0 1 ",
		"notes":     "local",
	}
	for name, w := range want {
		tab := snap.Table(catalog.QName{Schema: "public", Name: name})
		if tab == nil {
			t.Fatalf("table %s not loaded", name)
		}
		got := "local"
		if c := tab.Citus; c != nil {
			group := "group=0"
			if c.ColocationID > 0 {
				group = "group>0"
			}
			got = strings.Join([]string{c.Kind, c.Method, c.DistributionColumn, group, strconv.Itoa(c.ShardCount), c.ColocationType}, " ")
		}
		if got != w {
			t.Errorf("%s: %q, want %q", name, got, w)
		}
	}
	for _, s := range snap.Sequences {
		if wantDist := s.Name.Name != "notes_id_seq"; s.CitusDistributed != wantDist {
			t.Errorf("sequence %s: distributed %v, want %v", s.Name, s.CitusDistributed, wantDist)
		}
	}
}

// TestCitusRefusedBeforeAnyChange: the distribution column (with its
// colocation group) is refused by plan and by prepare, exit 4, naming the blocker; prepare
// changes nothing on the shell tables nor on any shard.
func TestCitusRefusedBeforeAnyChange(t *testing.T) {
	ctx := pgtest.Context(t)
	db := newCitusDB(t)
	if shards := withShards(t, ctx, db, `SELECT relname FROM pg_class WHERE relname ~ '^(companies|campaigns|ads)_[0-9]+$' AND relkind = 'r'`); len(shards) != 12 {
		t.Fatalf("shards on the coordinator: %q, want 12", shards)
	}
	for _, tc := range []struct{ table, column, code string }{
		{"companies", "id", "[citus-distribution-column] public.companies.id"},
	} {
		target := []string{"--table", tc.table, "--column", tc.column}
		out, _, code := runPgwiden(ctx, t, append([]string{"--dsn", db.DSN, "plan"}, target...)...)
		if code != 4 || !strings.Contains(out, tc.code) || !strings.Contains(out, "Citus ") {
			t.Errorf("plan %s.%s: exit %d, want 4 with %q and the topology:\n%s", tc.table, tc.column, code, tc.code, out)
		}
		_, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", db.DSN, "prepare"}, target...)...)
		if code != 4 || !strings.Contains(stderr, "cannot be migrated") {
			t.Errorf("prepare %s.%s: exit %d, want 4: %s", tc.table, tc.column, code, stderr)
		}
	}
	left := withShards(t, ctx, db, `SELECT attrelid::regclass::text || '.' || attname FROM pg_attribute WHERE attname LIKE '%pgwiden%' AND NOT attisdropped
		UNION ALL SELECT tgrelid::regclass::text || ' trigger ' || tgname FROM pg_trigger WHERE tgname LIKE '%pgwiden%'`)
	if len(left) > 0 {
		t.Errorf("the refused prepares left, on tables or shards:\n  %s", strings.Join(left, "\n  "))
	}
}

// TestCitusLocalTableMigrates: in a database with Citus, a table Citus
// does not know is migrated as on PostgreSQL, every phase, with rows
// written through the coordinator while it runs.
func TestCitusLocalTableMigrates(t *testing.T) {
	ctx := pgtest.Context(t)
	db := newCitusDB(t)
	before := readRows(t, ctx, db.Pool, `SELECT id || ':' || body FROM notes ORDER BY id`)
	target := []string{"--table", "notes", "--column", "id"}
	for _, ph := range [][]string{{"prepare"}, {"backfill"}, {"cutover"}, {"cleanup", "--yes"}} {
		db.Exec(t, `INSERT INTO notes (body) VALUES ('during `+ph[0]+`')`)
		args := append(append([]string{"--dsn", db.DSN, "--log-level", "warn", ph[0]}, target...), ph[1:]...)
		if _, stderr, code := runPgwiden(ctx, t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", ph[0], code, stderr)
		}
	}
	if typ := columnType(t, ctx, db.Pool, "notes", "id"); typ != "bigint" {
		t.Errorf("notes.id is %s, want bigint", typ)
	}
	after := readRows(t, ctx, db.Pool, `SELECT id || ':' || body FROM notes WHERE body NOT LIKE 'during %' ORDER BY id`)
	if joinLines(after) != joinLines(before) {
		t.Errorf("rows of notes changed by the migration")
	}
}

// withShards reads rows with the shards visible: Citus hides them from
// pg_class for other applications (citus.override_table_visibility).
func withShards(t *testing.T, ctx context.Context, db *pgtest.DB, sql string) []string {
	t.Helper()
	var out []string
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL citus.override_table_visibility TO off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

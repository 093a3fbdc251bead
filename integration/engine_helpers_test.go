package integration

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// saasSchema is the schema every engine test runs on; see its header.
var saasSchema = filepath.Join("testdata", "engine", "saas.sql")

// saasTarget is its target column, mixed case as in the catalog.
var saasTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "Tags"}, Column: "Id"}

// engineBatch keeps the suite fast: batches of 50 so every table takes
// several.
const engineBatch = 50

// engineConfig keeps the suite fast: a 200ms lock_timeout and retries
// within milliseconds.
func engineConfig() migrator.Config {
	cfg := migrator.DefaultConfig()
	cfg.LockTimeout = 200 * time.Millisecond
	cfg.StatementTimeout = 30 * time.Second
	cfg.Retry = pgerr.Policy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, MaxElapsed: 30 * time.Second}
	return cfg
}

// engine is an in-process migrator on its own pool, as the CLI builds it.
type engine struct {
	m  *migrator.Migrator
	st *state.Store
}

// newEngine builds a migrator on a pool of two connections named
// application_name=pgwiden: one holds the migration's advisory lock for
// the whole phase, the other runs the steps; with cfg.Workers, one more
// per worker, as the CLI opens.
func newEngine(t *testing.T, db *pgtest.DB, cfg migrator.Config, hooks migrator.Hooks) *engine {
	t.Helper()
	ctx := pgtest.Context(t)
	conns := int32(2)
	if cfg.Workers > 1 { // a connection per worker, and one for a VACUUM or the state
		conns += int32(cfg.Workers)
	}
	pool := enginePool(t, db.DSN, "pgwiden", conns, migrator.ConfigureSession)
	st, err := state.Open(ctx, pool, zerolog.Nop())
	if err != nil {
		t.Fatalf("state.Open: %v", err)
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	gov := &throttle.Fixed{BatchSize: engineBatch}
	return &engine{m: migrator.New(pool, st, gov, log, cfg, hooks), st: st}
}

// enginePool opens a pool, set up by configure, closed at the test's
// cleanup (before NewDB's drop: cleanups run last first).
func enginePool(t testing.TB, dsn, app string, maxConns int32, configure ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	for _, f := range configure {
		f(cfg)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	pool, err := pgxpool.NewWithConfig(pgtest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// phase runs one engine phase by name.
func (e *engine) phase(ctx context.Context, name string) error {
	run := map[string]func(context.Context, planner.Target) error{
		"prepare": e.m.Prepare, "backfill": e.m.Backfill, "cutover": e.m.Cutover,
		"cleanup": e.m.Cleanup, "rollback": e.m.Rollback,
	}[name]
	if run == nil {
		return errors.New("no phase " + name)
	}
	return run(ctx, saasTarget)
}

// run runs phases in order and fails the test on the first error.
func (e *engine) run(t *testing.T, ctx context.Context, phases ...string) {
	t.Helper()
	for _, p := range phases {
		if err := e.phase(ctx, p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
}

// job returns the target's newest migration, failing when there is none.
func (e *engine) job(t *testing.T, ctx context.Context) *state.Job {
	t.Helper()
	j, err := e.st.Last(ctx, saasTarget)
	if err != nil || j == nil {
		t.Fatalf("last job of %s: %v (job %v)", saasTarget, err, j)
	}
	return j
}

// wantPhase checks the recorded phase of the target's migration.
func (e *engine) wantPhase(t *testing.T, ctx context.Context, want state.Phase) {
	t.Helper()
	if got := e.job(t, ctx).Phase; got != want {
		t.Errorf("migration phase = %s, want %s", got, want)
	}
}

// saasPlan plans the target from the live catalog, as prepare will.
func saasPlan(t *testing.T, ctx context.Context, db *pgtest.DB) *planner.Plan {
	t.Helper()
	return buildPlan(t, ctx, db, saasTarget)
}

// assertWidened checks that every closure column is bigint.
func assertWidened(t *testing.T, ctx context.Context, db *pgtest.DB, p *planner.Plan) {
	t.Helper()
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			if typ := columnType(t, ctx, db.Pool, tc.Table.Quoted(), c.Name); typ != "bigint" {
				t.Errorf("%s.%s is %s, want bigint", tc.Table, c.Name, typ)
			}
		}
	}
}

// pgwidenObjects lists what pgwiden may have left on the user's tables:
// columns, triggers, indexes and constraints named *pgwiden*, and any
// function at all in schema pgwiden (the sync functions live there, under
// names without "pgwiden"). The state tables in schema pgwiden are
// allowed to stay. Columns are those of tables and views: an index's own
// attribute names are copied from the column it was built on (here the
// shadow) and are not renamed with it; pg_dump never shows them, only
// psql's \d on the index does (see the report of this suite).
const pgwidenObjects = `
SELECT 'column ' || attrelid::regclass || '.' || attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  WHERE attname LIKE '%pgwiden%' AND NOT attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND c.relnamespace::regnamespace::text <> 'pgwiden'
UNION ALL SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass FROM pg_trigger WHERE tgname LIKE '%pgwiden%'
UNION ALL SELECT 'relation ' || c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relname LIKE '%pgwiden%' AND n.nspname <> 'pgwiden'
UNION ALL SELECT 'constraint ' || conname || ' on ' || conrelid::regclass FROM pg_constraint WHERE conname LIKE '%pgwiden%'
UNION ALL SELECT 'function ' || p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = 'pgwiden' OR p.proname LIKE '%pgwiden%'
ORDER BY 1`

// assertNoPgwidenObjects fails when pgwiden left anything on user tables.
func assertNoPgwidenObjects(t *testing.T, ctx context.Context, db *pgtest.DB) {
	t.Helper()
	if left := readRows(t, ctx, db.Pool, pgwidenObjects); len(left) > 0 {
		t.Errorf("pgwiden objects left on user tables:\n  %s", strings.Join(left, "\n  "))
	}
}

// assertSchemaAsBefore compares pg_dump --schema-only with the dump taken
// before prepare, forgetting only what widening p is meant to change, with
// normalizeTypes (plansql_test.go): the closure's columns become bigint,
// the widened sequences' "AS integer" line goes, and the column lines of
// each CREATE TABLE are sorted (a widened column becomes its table's
// last). This schema needs nothing more: pg_dump writes an identity
// sequence without an AS clause when it has its column's type, as it does
// before (integer) and after (bigint) the identity moves; and the view,
// dumped first as a placeholder because it depends on the primary key,
// shows NULL::integer AS "Id", a closure column.
func assertSchemaAsBefore(t *testing.T, p *planner.Plan, before, after string) {
	t.Helper()
	if b, a := normalizeTypes(before, p), normalizeTypes(after, p); b != a {
		t.Errorf("schema differs beyond the closure's integer -> bigint:\n%s", firstDiff(b, a))
	}
}

// assertUnchanged compares two sets of key checksums (keyChecksums).
func assertUnchanged(t *testing.T, what string, before, after []string) {
	t.Helper()
	if !slices.Equal(before, after) {
		t.Errorf("key checksums changed %s:\nbefore: %v\nafter:  %v", what, before, after)
	}
}

// waitGone waits until no session of the test's database runs under
// application_name app (pg_terminate_backend does not wait).
func waitGone(t *testing.T, ctx context.Context, db *pgtest.DB, app string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of %s still open after 10s", n, app)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noHooks runs every phase to its end.
var noHooks = migrator.Hooks{}

// readRows returns the query's one text column, sorted.
func readRows(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

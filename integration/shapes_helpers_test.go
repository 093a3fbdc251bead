package integration

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

// The shape tests (shapes_*_test.go) each load a schema of a shape DBAs
// bring (keyless tables, foreign keys on partitions, inheritance...), run
// the whole migration while a writer changes rows, and compare every row
// with what the writer committed. A row is identified by a "note" column
// the schema gives each table (no constraint: keyless tables have no key),
// and compared as one text value, the table's view rendered by the model's
// query, so a widened column that lost or changed a value shows.

// shapeTable is one table the writer changes and the test compares.
type shapeTable struct {
	name string
	// rows returns two text columns: the note and the row rendered as
	// text. The writer's statements return the same two columns.
	rows string
}

// shapeOp is one write: stmt returns the statement, its arguments and
// whether it deletes (RETURNING note only); ok false skips the turn.
type shapeOp struct {
	table string
	stmt  func(w *shapeWriter) (sql string, args []any, del, ok bool)
}

// shapeWriter applies random operations in a loop and keeps the model:
// table -> note -> row text, exactly what it committed.
type shapeWriter struct {
	pool   *pgxpool.Pool
	rng    *rand.Rand
	tables []shapeTable
	ops    []shapeOp
	model  map[string]map[string]string
	seq    int
	n      int
	err    error
}

func newShapeWriter(t *testing.T, ctx context.Context, db *pgtest.DB, tables []shapeTable, ops []shapeOp) *shapeWriter {
	t.Helper()
	w := &shapeWriter{pool: enginePool(t, db.DSN, "app-writer", 2), rng: rand.New(rand.NewPCG(8, 8)),
		tables: tables, ops: ops, model: map[string]map[string]string{}}
	for _, tab := range tables {
		w.model[tab.name] = readModel(t, ctx, db.Pool, tab.rows)
	}
	return w
}

// readModel reads a table's rows as note -> row text.
func readModel(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sql string) map[string]string {
	t.Helper()
	rows, err := pool.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out := map[string]string{}
	var note, row string
	_, err = pgx.ForEachRow(rows, []any{&note, &row}, func() error { out[note] = row; return nil })
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// pick returns a random note of table, false when it has none.
func (w *shapeWriter) pick(table string) (string, bool) {
	m := w.model[table]
	if len(m) == 0 {
		return "", false
	}
	keys := slices.Sorted(maps.Keys(m))
	return keys[w.rng.IntN(len(keys))], true
}

// fresh returns a note no row has.
func (w *shapeWriter) fresh() string { w.seq++; return fmt.Sprintf("w%d", w.seq) }

// loop writes until stop closes or a write fails.
func (w *shapeWriter) loop(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			w.err = ctx.Err()
			return
		default:
		}
		op := w.ops[w.rng.IntN(len(w.ops))]
		sql, args, del, ok := op.stmt(w)
		if !ok {
			continue
		}
		if err := w.apply(ctx, op.table, sql, args, del); err != nil {
			w.err = fmt.Errorf("%s %v: %w", sql, args, err)
			return
		}
		w.n++
	}
}

// apply runs one statement and records in the model what it returned.
func (w *shapeWriter) apply(ctx context.Context, table, sql string, args []any, del bool) error {
	rows, err := w.pool.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	var note, row string
	dest := []any{&note, &row}
	if del {
		dest = dest[:1]
	}
	_, err = pgx.ForEachRow(rows, dest, func() error {
		if del {
			delete(w.model[table], note)
		} else {
			w.model[table][note] = row
		}
		return nil
	})
	return err
}

// check compares every table with the model, row by row.
func (w *shapeWriter) check(t *testing.T, ctx context.Context, pool *pgxpool.Pool) {
	t.Helper()
	for _, tab := range w.tables {
		got, want := readModel(t, ctx, pool, tab.rows), w.model[tab.name]
		if !maps.Equal(got, want) {
			t.Errorf("%s: table has %d rows, the writer committed %d; first difference:\n%s", tab.name, len(got), len(want),
				firstDiff(joinLines(modelLines(want)), joinLines(modelLines(got))))
		}
	}
}

func modelLines(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+" "+m[k])
	}
	return out
}

// migrateUnder runs prepare, backfill, cutover and cleanup of target
// while w writes, then compares the rows and checks that every closure
// column is bigint and that pgwiden left nothing behind. It returns the
// plan the migration followed.
func migrateUnder(t *testing.T, ctx context.Context, db *pgtest.DB, target planner.Target, w *shapeWriter) *planner.Plan {
	t.Helper()
	return migrateUnderWith(t, ctx, db, target, w, engineConfig())
}

// migrateUnderWith is migrateUnder with the engine configured by cfg.
func migrateUnderWith(t *testing.T, ctx context.Context, db *pgtest.DB, target planner.Target, w *shapeWriter, cfg migrator.Config) *planner.Plan {
	t.Helper()
	p := buildPlan(t, ctx, db, target)
	before := schemaFacts(t, ctx, db.Pool)
	e := newEngine(t, db, cfg, noHooks)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.loop(ctx, stop) }()
	phases := []func(context.Context, planner.Target) error{e.m.Prepare, e.m.Backfill, e.m.Cutover, e.m.Cleanup}
	for i, run := range phases {
		if err := run(ctx, target); err != nil {
			t.Errorf("%s under a writer: %v", []string{"prepare", "backfill", "cutover", "cleanup"}[i], err)
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // writes through the cleaned-up tables
	close(stop)
	wg.Wait()
	if w.err != nil {
		t.Fatalf("writer failed after %d writes: %v", w.n, w.err)
	}
	t.Logf("%d writes during the migration", w.n)
	if w.n == 0 {
		t.Fatal("the writer wrote nothing: the test proves nothing")
	}
	assertWidened(t, ctx, db, p)
	assertNoPgwidenObjects(t, ctx, db)
	assertFactsAsBefore(t, ctx, db.Pool, p, before)
	w.check(t, ctx, db.Pool)
	return p
}

// walkMethods maps each walked table of a plan to its walk method.
func walkMethods(p *planner.Plan) map[string]string {
	out := map[string]string{}
	for _, tc := range p.Tables {
		for _, w := range tc.Walks {
			out[w.Table.String()] = w.Method
		}
	}
	return out
}

// schemaFactsSQL lists, one line each, what a migration must leave as it
// was in schema public: columns (of tables), indexes with their validity
// and the index they are attached to, constraints with their validation,
// triggers, views, policies and rules. Closure columns change type: see
// assertFactsAsBefore. NOT NULL constraints (catalogued from PostgreSQL 18)
// are left out: the column's NOT NULL is in its line, and the constraint's
// name is the swap's business.
const schemaFactsSQL = `
SELECT 'column ' || c.oid::regclass || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE WHEN a.attgenerated = 's' THEN ' GENERATED' ELSE '' END
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'table ' || c.oid::regclass || ' ' || c.relkind::text || ' rls ' || c.relrowsecurity || ' force ' || c.relforcerowsecurity
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
       || coalesce(' attached to ' || (SELECT h.inhparent::regclass::text FROM pg_inherits h WHERE h.inhrelid = i.indexrelid), '')
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || quote_ident(conname) || ' ' || pg_get_constraintdef(oid)
       || CASE WHEN convalidated THEN '' ELSE ' NOT VALIDATED' END
FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype <> 'n'
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'view ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
WHERE c.relkind IN ('v', 'm') AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'policy ' || polrelid::regclass || ' ' || polname || ' ' || polcmd::text || ' ' || coalesce(pg_get_expr(polqual, polrelid), '')
       || ' / ' || coalesce(pg_get_expr(polwithcheck, polrelid), '')
FROM pg_policy
UNION ALL
SELECT 'rule ' || pg_get_ruledef(r.oid) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE r.rulename <> '_RETURN' AND c.relnamespace = 'public'::regnamespace`

// schemaFacts reads schemaFactsSQL, sorted.
func schemaFacts(t *testing.T, ctx context.Context, pool *pgxpool.Pool) []string {
	t.Helper()
	return readRows(t, ctx, pool, schemaFactsSQL)
}

// assertFactsAsBefore compares the facts after a migration with those
// before it, where only the plan's closure columns (on their tables and on
// every partition or inheritance child under them) may have changed, from integer or smallint
// to bigint.
func assertFactsAsBefore(t *testing.T, ctx context.Context, pool *pgxpool.Pool, p *planner.Plan, before []string) {
	t.Helper()
	want := slices.Clone(before)
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			cols := readRows(t, ctx, pool, `WITH RECURSIVE tree(r) AS (
				SELECT $1::regclass::oid UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.r)
				SELECT r::regclass || '.' || quote_ident($2) FROM tree`, tc.Table.Quoted(), c.Name)
			for _, col := range cols {
				from := "column " + col + " " + c.Type
				for i, f := range want {
					if strings.HasPrefix(f, from+" ") || f == from {
						want[i] = "column " + col + " bigint" + strings.TrimPrefix(f, from)
					}
				}
			}
		}
	}
	slices.Sort(want)
	if after := schemaFacts(t, ctx, pool); !slices.Equal(after, want) {
		t.Errorf("schema differs beyond the closure's types:\n%s", firstDiff(joinLines(want), joinLines(after)))
	}
}

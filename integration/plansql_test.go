package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// TestPlanSQLRuns executes every rendered step of each scenario's plan, in
// order, on a real server with rows in the tables: prepare, a backfill,
// cutover and cleanup. It proves the SQL the planner shows operators is
// valid and does what it says; the migrator adds resumability, lock
// timeouts and retries on top of the same steps. After cleanup every
// closure column must be bigint and the schema otherwise unchanged.
func TestPlanSQLRuns(t *testing.T) {
	for _, name := range []string{"fk-chain-3-levels", "composite-fk", "partitioned-child", "partitioned-target", "weird-names", "pg12-partitioned-child", "pg18-not-null-names"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, filepath.Join("testdata", "plans", name+".sql"))
			seed(t, db, name)
			before := schemaDump(t, db)
			p := buildPlan(t, ctx, db, scenarioTarget(t, filepath.Join("testdata", "plans", name+".sql")))
			runPhases(t, ctx, db.Pool, p, planner.Prepare, planner.Backfill, planner.Cutover, planner.Cleanup)
			for _, tc := range p.Tables {
				for _, c := range tc.Columns {
					if typ := columnType(t, ctx, db.Pool, tc.Table.Quoted(), c.Name); typ != "bigint" {
						t.Errorf("%s.%s is %s after cleanup", tc.Table, c.Name, typ)
					}
				}
			}
			after := schemaDump(t, db)
			if b, a := normalizeTypes(before, p), normalizeTypes(after, p); b != a {
				t.Errorf("schema after cleanup differs beyond the closure's integer -> bigint:\n%s", firstDiff(b, a))
			}
		})
	}
}

// TestPlanRollbackRestoresSchema runs prepare, backfill and the cutover's
// steps up to the swap, then the rollback steps: pg_dump --schema-only
// must be byte-identical to the dump taken before prepare.
func TestPlanRollbackRestoresSchema(t *testing.T) {
	for _, name := range []string{"fk-chain-3-levels", "composite-fk", "partitioned-child", "weird-names", "pg12-partitioned-child", "pg18-not-null-names"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, filepath.Join("testdata", "plans", name+".sql"))
			seed(t, db, name)
			before := schemaDump(t, db)
			p := buildPlan(t, ctx, db, scenarioTarget(t, filepath.Join("testdata", "plans", name+".sql")))
			runPhases(t, ctx, db.Pool, p, planner.Prepare, planner.Backfill)
			runSteps(t, ctx, db.Pool, p, func(s planner.Step) bool {
				return s.Phase == planner.Cutover && s.ID != "cutover/swap" && !afterSwap(p, s)
			})
			runPhases(t, ctx, db.Pool, p, planner.Rollback)
			db.Exec(t, "DROP SCHEMA pgwiden")
			if after := schemaDump(t, db); after != before {
				t.Errorf("schema after rollback differs:\n%s", firstDiff(before, after))
			}
		})
	}
}

// TestPlanSwapBackRestoresSchema runs the whole cutover, writes rows
// through the swapped columns, then the swap back and the rollback: the
// schema dump must equal the original, and every row written since the
// cutover must be there with the same values.
func TestPlanSwapBackRestoresSchema(t *testing.T) {
	for _, name := range []string{"fk-chain-3-levels", "composite-fk", "partitioned-child", "partitioned-target", "weird-names", "pg12-partitioned-child", "pg18-not-null-names"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, filepath.Join("testdata", "plans", name+".sql"))
			seed(t, db, name)
			before := schemaDump(t, db)
			p := buildPlan(t, ctx, db, scenarioTarget(t, filepath.Join("testdata", "plans", name+".sql")))
			runPhases(t, ctx, db.Pool, p, planner.Prepare, planner.Backfill, planner.Cutover)
			db.Exec(t, moreRows[name]) // written through the new columns, followed by the old
			sums := keyChecksums(t, ctx, db, p)
			runPhases(t, ctx, db.Pool, p, planner.Unswap, planner.Rollback)
			db.Exec(t, "DROP SCHEMA pgwiden CASCADE")
			if after := schemaDump(t, db); after != before {
				t.Errorf("schema after swap back and rollback differs:\n%s", firstDiff(before, after))
			}
			if got := keyChecksums(t, ctx, db, p); !slices.Equal(got, sums) {
				t.Errorf("key checksums changed by the swap back: %v, then %v", sums, got)
			}
		})
	}
}

// TestPlanSwapBackRefusesWideValues: once a value beyond int4 is stored,
// the swap back's verification finds it and the old columns stay retired.
func TestPlanSwapBackRefusesWideValues(t *testing.T) {
	ctx := pgtest.Context(t)
	path := filepath.Join("testdata", "plans", "fk-chain-3-levels.sql")
	db := newDBWith(t, path)
	p := buildPlan(t, ctx, db, scenarioTarget(t, path))
	runPhases(t, ctx, db.Pool, p, planner.Prepare, planner.Backfill, planner.Cutover)
	db.Exec(t, "INSERT INTO tags (id, name) VALUES (3000000000, 'wide')")
	var differ int64
	for _, s := range p.Steps {
		if s.Phase == planner.Unswap && s.Batch != nil && s.Table.Name == "tags" {
			if err := db.Pool.QueryRow(ctx, strings.Replace(s.Batch.First, "\"id\" <= $1", "true", 1)).Scan(&differ); err != nil {
				t.Fatal(err)
			}
		}
	}
	if differ != 1 {
		t.Errorf("the swap back's verification found %d rows beyond int4, want 1", differ)
	}
}

// keyChecksums sums every closure column per table, as a DBA would check
// that a migration kept the data.
func keyChecksums(t *testing.T, ctx context.Context, db *pgtest.DB, p *planner.Plan) []string {
	var out []string
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			var sum string
			q := fmt.Sprintf("SELECT count(*)::text || ':' || coalesce(sum(%s::numeric), 0)::text || ':' || md5(string_agg(%s::text, ',' ORDER BY %s)) FROM %s",
				pgx.Identifier{c.Name}.Sanitize(), pgx.Identifier{c.Name}.Sanitize(), pgx.Identifier{c.Name}.Sanitize(), tc.Table.Quoted())
			if err := db.Pool.QueryRow(ctx, q).Scan(&sum); err != nil {
				t.Fatal(err)
			}
			out = append(out, tc.Table.String()+"."+c.Name+"="+sum)
		}
	}
	return out
}

// afterSwap reports whether s comes after the swap step in the plan.
func afterSwap(p *planner.Plan, s planner.Step) bool {
	seen := false
	for _, x := range p.Steps {
		if x.ID == "cutover/swap" {
			seen = true
		}
		if x.ID == s.ID {
			return seen
		}
	}
	return false
}

func buildPlan(t *testing.T, ctx context.Context, db *pgtest.DB, target planner.Target) *planner.Plan {
	p, err := planner.Build(mustLoad(t, ctx, db.Pool), target)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Blockers) > 0 {
		t.Fatalf("blockers: %+v", p.Blockers)
	}
	return p
}

func runPhases(t *testing.T, ctx context.Context, pool *pgxpool.Pool, p *planner.Plan, phases ...planner.Phase) {
	for _, ph := range phases {
		runSteps(t, ctx, pool, p, func(s planner.Step) bool { return s.Phase == ph })
	}
}

// runSteps is a deliberately plain executor: each step once, batched steps
// walked in batches of 7 rows so several batches run.
func runSteps(t *testing.T, ctx context.Context, pool *pgxpool.Pool, p *planner.Plan, pick func(planner.Step) bool) {
	t.Helper()
	for _, s := range p.Steps {
		if !pick(s) {
			continue
		}
		if s.Batch != nil {
			walk(t, ctx, pool, s)
			continue
		}
		if _, err := pool.Exec(ctx, s.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("step %s: %v\n%s", s.ID, err, s.SQL)
		}
	}
}

func walk(t *testing.T, ctx context.Context, pool *pgxpool.Pool, s planner.Step) {
	const size = 7
	stop, err := oneRow(ctx, pool, s.Batch.Last)
	if err != nil || stop == nil {
		if err != nil {
			t.Fatalf("step %s last key: %v", s.ID, err)
		}
		return
	}
	var last []any
	for {
		var bound []any
		var err error
		if last == nil {
			bound, err = oneRow(ctx, pool, s.Batch.FirstBound, append(append([]any{}, stop...), size)...)
		} else {
			bound, err = oneRow(ctx, pool, s.Batch.NextBound, append(append(append([]any{}, last...), stop...), size)...)
		}
		if err != nil {
			t.Fatalf("step %s bounds: %v", s.ID, err)
		}
		if bound == nil {
			return
		}
		bound = bound[:len(bound)-1] // the last column is the batch's row count
		stmt, args := s.Batch.First, bound
		if last != nil {
			stmt, args = s.Batch.Next, append(append([]any{}, last...), bound...)
		}
		rows, err := pool.Query(ctx, stmt, args...)
		if err == nil {
			for rows.Next() {
				if vals, _ := rows.Values(); s.Phase == planner.Cutover && len(vals) == 1 && vals[0].(int64) != 0 {
					t.Errorf("step %s: %d rows differ", s.ID, vals[0])
				}
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			t.Fatalf("step %s: %v", s.ID, err)
		}
		last = bound
	}
}

func oneRow(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) ([]any, error) {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	return rows.Values()
}

func columnType(t *testing.T, ctx context.Context, pool *pgxpool.Pool, table, col string) string {
	var typ string
	err := pool.QueryRow(ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`, table, col).Scan(&typ)
	if err != nil {
		t.Fatalf("type of %s.%s: %v", table, col, err)
	}
	return typ
}

// seed puts rows in every table of a scenario so backfill and validation
// have work to do.
func seed(t *testing.T, db *pgtest.DB, name string) {
	sql := map[string]string{
		"fk-chain-3-levels": `INSERT INTO tag_stats (tag_id, uses) SELECT id, id FROM tags;
			INSERT INTO tag_stat_snapshots (tag_id) SELECT tag_id FROM tag_stats, generate_series(1,3);
			INSERT INTO taggings (tag_id, item_id) SELECT id, g FROM tags, generate_series(1,5) g;`,
		"composite-fk": `INSERT INTO tenants SELECT generate_series(1,3);
			INSERT INTO tags (tenant_id, name) SELECT 1 + g % 3, 't' || g FROM generate_series(1,40) g;
			INSERT INTO items (tenant_id, tag_id) SELECT tenant_id, id FROM tags;
			INSERT INTO items (tenant_id, tag_id) VALUES (1, NULL);`,
		"partitioned-child": `INSERT INTO tags (name) SELECT 't' || g FROM generate_series(1,30) g;
			INSERT INTO events (created_at, tag_id) SELECT date '2025-06-01' + (g * 7), 1 + g % 30 FROM generate_series(1,60) g;`,
		"partitioned-target": `INSERT INTO measurements (taken_on, value) SELECT date '2025-06-01' + (g * 5), g FROM generate_series(1,80) g;`,
		"weird-names": `INSERT INTO "Odd Schema"."Weird ""Quoted"" Table" ("Name") SELECT 'n' || g FROM generate_series(1,20) g;
			INSERT INTO "Odd Schema"."Child 100%" ("Child Id", "Parent Id") SELECT g, 1 + g % 20 FROM generate_series(1,50) g;`,
		"pg12-partitioned-child": `INSERT INTO tags (name) SELECT 't' || g FROM generate_series(1,30) g;
			INSERT INTO events (id, created_at, region, tag_id) SELECT g, date '2025-06-01' + (g * 3), 1 + g % 2, CASE WHEN g % 7 <> 0 THEN 1 + g % 30 END FROM generate_series(1,120) g;`,
		"pg18-not-null-names": notNullRows,
	}[name]
	db.Exec(t, sql)
}

// moreRows writes rows after the cutover, with column lists: the widened
// columns are now the tables' last ones.
var moreRows = map[string]string{
	"fk-chain-3-levels": `INSERT INTO tags (name) VALUES ('after-1'), ('after-2');
		INSERT INTO tag_stats (tag_id, uses) SELECT id, 0 FROM tags WHERE name LIKE 'after-%';
		INSERT INTO tag_stat_snapshots (tag_id) SELECT id FROM tags WHERE name LIKE 'after-%';
		INSERT INTO taggings (tag_id, item_id) SELECT id, 99 FROM tags WHERE name LIKE 'after-%';
		UPDATE taggings SET tag_id = 2, item_id = 5000 WHERE id = 3;`,
	"composite-fk": `INSERT INTO tags (tenant_id, name) VALUES (2, 'after');
		INSERT INTO items (tenant_id, tag_id) SELECT tenant_id, id FROM tags WHERE name = 'after';`,
	"partitioned-child": `INSERT INTO tags (name) VALUES ('after');
		INSERT INTO events (created_at, tag_id) SELECT date '2026-03-01', id FROM tags WHERE name = 'after';`,
	"partitioned-target": `INSERT INTO measurements (taken_on, value) VALUES (date '2026-05-01', 1), (date '2025-02-01', 2);`,
	"weird-names": `INSERT INTO "Odd Schema"."Weird ""Quoted"" Table" ("Name") VALUES ('after');
		INSERT INTO "Odd Schema"."Child 100%" ("Child Id", "Parent Id") VALUES (1000, 21);`,
	"pg12-partitioned-child": `INSERT INTO tags (name) VALUES ('after');
		INSERT INTO events (id, created_at, region, tag_id) SELECT 1000, date '2026-03-01', 2, id FROM tags WHERE name = 'after';`,
	"pg18-not-null-names": `INSERT INTO "Weird Table" (name) VALUES ('after');
		INSERT INTO item_revisions (tag_id, body) SELECT "Id", 'after' FROM "Weird Table" WHERE name = 'after';
		INSERT INTO events (created_at, tag_id) SELECT date '2026-03-01', "Id" FROM "Weird Table" WHERE name = 'after';`,
}

// schemaDump describes the test database's schema, without the pgwiden
// state schema: the catalog description (describeSchema) on every
// version, followed by pg_dump --schema-only where the server's binaries
// include a pg_dump of its version.
func schemaDump(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	desc, err := describeSchema(pgtest.Context(t), db.Pool)
	if err != nil {
		t.Fatalf("describe the schema from the catalog: %v", err)
	}
	tool := pgtest.Tool("pg_dump")
	if _, err := os.Stat(tool); err != nil {
		t.Logf("schema compared through the catalog only: %s has no pg_dump", pgtest.BinDir())
		return desc
	}
	out, err := exec.Command(tool, "--schema-only", "--no-owner", "--exclude-schema=pgwiden", "--dbname", db.DSN).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	// pg_dump 17.6+/15.14+ writes a random \restrict key on every run.
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, `\restrict `) && !strings.HasPrefix(line, `\unrestrict `) {
			keep = append(keep, line)
		}
	}
	return desc + strings.Join(keep, "\n")
}

// normalizeTypes forgets the differences the migration p is meant to
// make, and no others: the closure's columns (on their tables and leaf
// partitions) written with their old type become bigint, the "AS integer"
// line of the sequences p widens goes (bigint is pg_dump's default), a
// view's placeholder column that is a closure column ("NULL::integer AS
// id") becomes bigint, and the column lines of each CREATE TABLE are
// sorted (a widened column becomes its table's last). Any other integer
// column, sequence or cast stays as it was, so one widened by mistake
// shows in the comparison.
func normalizeTypes(dump string, p *planner.Plan) string {
	cols := map[string][]planner.ColumnChange{} // CREATE TABLE name, as pg_dump writes it -> columns
	names := map[string]bool{}                  // closure column names, as pg_dump writes them
	for _, tc := range p.Tables {
		for _, t := range append([]catalog.QName{tc.Table}, tc.Leaves...) {
			cols[dumpName(t)] = tc.Columns
		}
		for _, c := range tc.Columns {
			names[dumpIdent(c.Name)] = true
		}
	}
	seqs := map[string]bool{}
	for _, sc := range p.Sequences {
		seqs[dumpName(sc.Sequence)] = true
	}
	lines := strings.Split(dump, "\n")
	inheritClosure(lines, cols)
	var out []string
	var table []planner.ColumnChange
	seq, view := false, false
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, "CREATE TABLE "):
			table = cols[strings.TrimSuffix(strings.TrimPrefix(line, "CREATE TABLE "), " (")]
		case strings.HasPrefix(line, "CREATE SEQUENCE "):
			seq = seqs[strings.TrimPrefix(line, "CREATE SEQUENCE ")]
		case strings.HasPrefix(line, "CREATE VIEW "), strings.HasPrefix(line, "CREATE OR REPLACE VIEW "):
			view = true
		}
		for _, c := range table {
			if prefix := "    " + dumpIdent(c.Name) + " " + c.Type; strings.HasPrefix(line, prefix) {
				line = "    " + dumpIdent(c.Name) + " bigint" + strings.TrimPrefix(line, prefix)
			}
		}
		if view {
			for name := range names {
				for _, typ := range []string{"integer", "smallint"} {
					line = strings.ReplaceAll(line, "NULL::"+typ+" AS "+name+",", "NULL::bigint AS "+name+",")
					if strings.HasSuffix(line, "NULL::"+typ+" AS "+name) {
						line = strings.TrimSuffix(line, "NULL::"+typ+" AS "+name) + "NULL::bigint AS " + name
					}
				}
			}
		}
		if seq && (line == "    AS integer" || line == "    AS smallint") {
			continue
		}
		// The catalog description's line of a sequence (schemadesc_test.go).
		for name := range seqs {
			for _, typ := range []string{"integer", "smallint"} {
				if prefix := "sequence " + name + " AS " + typ + " "; strings.HasPrefix(line, prefix) {
					line = "sequence " + name + " AS bigint " + strings.TrimPrefix(line, prefix)
				}
			}
		}
		out = append(out, line)
		if strings.HasPrefix(line, ")") || strings.HasSuffix(line, ";") {
			table, seq, view = nil, false, false
		}
	}
	for i := 0; i < len(out); i++ {
		if !strings.HasPrefix(out[i], "CREATE TABLE ") {
			continue
		}
		j := i + 1
		for j < len(out) && !strings.HasPrefix(out[j], ")") {
			out[j] = strings.TrimSuffix(out[j], ",")
			j++
		}
		slices.Sort(out[i+1 : j])
		i = j
	}
	return strings.Join(out, "\n")
}

// dumpName writes a qualified name as pg_dump does.
// inheritClosure adds to cols the tables of the dump that inherit from a
// closure table at any depth (the partitioned partitions of a sub-
// partitioned table are in no plan list, yet widen with it), as the
// catalog description (`table s.t ... inherits=p`) and pg_dump (`ALTER
// TABLE ONLY p ATTACH PARTITION s.t`) record them.
func inheritClosure(lines []string, cols map[string][]planner.ColumnChange) {
	parent := map[string]string{}
	for _, line := range lines {
		if rest, ok := strings.CutPrefix(line, "table "); ok {
			name, attrs, _ := strings.Cut(rest, " ")
			if _, after, ok := strings.Cut(attrs, " inherits="); ok {
				p, _, _ := strings.Cut(after, " ")
				if p, _, _ = strings.Cut(p, ","); p != "" && p != "<NULL>" {
					if !strings.Contains(p, ".") {
						schema, _, _ := strings.Cut(name, ".")
						p = schema + "." + p
					}
					parent[name] = p
				}
			}
		}
		if rest, ok := strings.CutPrefix(line, "ALTER TABLE ONLY "); ok {
			if p, child, ok := strings.Cut(rest, " ATTACH PARTITION "); ok {
				child, _, _ = strings.Cut(child, " ")
				parent[child] = p
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for child, p := range parent {
			if _, ok := cols[child]; !ok && cols[p] != nil {
				cols[child] = cols[p]
				changed = true
			}
		}
	}
}

func dumpName(q catalog.QName) string { return dumpIdent(q.Schema) + "." + dumpIdent(q.Name) }

// dumpIdent quotes an identifier as pg_dump does (quote_ident): only when
// it is not all lower case letters, digits and underscores.
func dumpIdent(s string) string {
	plain := s != "" && (s[0] < '0' || s[0] > '9')
	for _, r := range s {
		plain = plain && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  before: %s\n  after:  %s", i+1, x, y)
		}
	}
	return ""
}

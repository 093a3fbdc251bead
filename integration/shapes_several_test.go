package integration

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

var severalSchema = filepath.Join("testdata", "shapes", "several.sql")

// TestShapeAllIntKeys widens every integer key of issue in one migration
// (--all-int-keys): id, project_id, author_id and iid (in a unique
// constraint), plus issue_link's two references to issue.id. Each table is
// backfilled once, for all its columns, under a writer.
func TestShapeAllIntKeys(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, severalSchema)
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "issue"}, AllIntKeys: true}
	p := buildPlan(t, ctx, db, target)
	cols := map[string][]string{}
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			cols[tc.Table.Name] = append(cols[tc.Table.Name], c.Name)
		}
	}
	if want := []string{"id", "project_id", "author_id", "iid"}; !slices.Equal(cols["issue"], want) {
		t.Errorf("issue widens %v, want %v", cols["issue"], want)
	}
	if want := []string{"source_id", "target_id"}; !slices.Equal(cols["issue_link"], want) {
		t.Errorf("issue_link widens %v, want %v", cols["issue_link"], want)
	}
	if len(cols) != 2 {
		t.Errorf("tables of the plan: %v, want issue and issue_link only (project.id and account.id stay)", cols)
	}
	var copies []string
	for _, s := range p.Steps {
		if strings.HasPrefix(s.ID, "backfill/copy/") {
			copies = append(copies, s.ID)
		}
	}
	if want := []string{"backfill/copy/public.issue", "backfill/copy/public.issue_link"}; !slices.Equal(copies, want) {
		t.Errorf("backfill steps %v, want one per table: %v", copies, want)
	}
	const row = `note, concat_ws('|', id, project_id, coalesce(author_id::text, 'null'), iid, title)`
	tables := []shapeTable{
		{name: "issue", rows: `SELECT ` + row + ` FROM issue`},
		{name: "issue_link", rows: `SELECT note, concat_ws('|', source_id, target_id) FROM issue_link`},
	}
	ops := []shapeOp{
		{table: "issue", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO issue (project_id, author_id, iid, title, note) VALUES ($1, $2, 100000 + $3, 'new', $4) RETURNING ` + row,
				[]any{1 + w.rng.IntN(40), 1 + w.rng.IntN(100), w.seq, w.fresh()}, false, true
		}},
		{table: "issue", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("issue")
			return `UPDATE issue SET author_id = $1, title = title || 'x' WHERE note = $2 RETURNING ` + row, []any{1 + w.rng.IntN(100), note}, false, ok
		}},
		{table: "issue_link", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO issue_link (source_id, target_id, note) VALUES ($1, $2, $3) RETURNING note, concat_ws('|', source_id, target_id)`,
				[]any{1 + w.rng.IntN(2500), 1 + w.rng.IntN(2500), w.fresh()}, false, true
		}},
		{table: "issue_link", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("issue_link")
			return `UPDATE issue_link SET target_id = $1 WHERE note = $2 RETURNING note, concat_ws('|', source_id, target_id)`, []any{1 + w.rng.IntN(2500), note}, false, ok
		}},
	}
	migrateUnder(t, ctx, db, target, newShapeWriter(t, ctx, db, tables, ops))
}

// TestShapeRepeatedColumn plans two columns of issue with --column given
// twice, through the CLI: the plan widens both, from one migration named
// by the first.
func TestShapeRepeatedColumn(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, severalSchema)
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "plan", "--table", "issue", "--column", "author_id", "--column", "id")
	if code != 0 {
		t.Fatalf("plan exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"pgwiden plan: widen public.issue.author_id, id to bigint",
		`UPDATE "public"."issue" SET "author_id_pgwiden_new" = "author_id", "id_pgwiden_new" = "id" WHERE`,
		"public.issue_link.source_id",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	if strings.Contains(stdout, "public.issue.project_id ") {
		t.Error("plan widens project_id, which was not asked for")
	}
}

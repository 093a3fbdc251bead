package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// TestPlanCommand runs `pgwiden plan` as an operator would and checks the
// output and exit status for a clean plan, a blocked one, a target that is
// already bigint, and the JSON that later phases read back.
func TestPlanCommand(t *testing.T) {
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "plans", "fk-chain-3-levels.sql"))
	before := schemaDump(t, db)

	out, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "plan", "--table", "tags", "--column", "id")
	if code != 0 || stderr != "" {
		t.Fatalf("plan: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"public.tag_stat_snapshots.tag_id", // three levels down
		`ALTER TABLE "public"."tags" ADD COLUMN "id_pgwiden_new" bigint NOT NULL DEFAULT 0;`,
		`ALTER SEQUENCE "public"."tags_id_seq" AS bigint;`,
		"[lock: SHARE UPDATE EXCLUSIVE, outside a transaction]",
		"[user-trigger] public.tags trigger tags_touch",
		"[view] public.tag_counts",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}

	file := filepath.Join(t.TempDir(), "plan.json")
	cat := filepath.Join(t.TempDir(), "catalog.json")
	jsonOut, _, code := runPgwiden(ctx, t, "--dsn", db.DSN, "plan", "--table", "tags", "--column", "id", "--json", "--out", file, "--dump-catalog", cat)
	if code != 0 {
		t.Fatalf("plan --json: exit %d", code)
	}
	var p planner.Plan
	if err := json.Unmarshal([]byte(jsonOut), &p); err != nil || p.FormatVersion != planner.FormatVersion || len(p.Tables) != 4 {
		t.Fatalf("plan --json: %v, %d tables, format %d", err, len(p.Tables), p.FormatVersion)
	}
	saved, _ := os.ReadFile(file)
	if string(saved) != jsonOut {
		t.Errorf("--out file differs from the printed JSON")
	}
	var snap catalog.Snapshot
	if data, err := os.ReadFile(cat); err != nil || json.Unmarshal(data, &snap) != nil || snap.Table(catalog.QName{Schema: "public", Name: "tags"}) == nil {
		t.Errorf("--dump-catalog did not write a usable snapshot: %v", err)
	}
	if after := schemaDump(t, db); after != before {
		t.Errorf("plan changed the schema:\n%s", firstDiff(before, after))
	}
}

// TestPlanCommandExitCodes checks each refusal: one line on stderr naming
// the object and what to do, and the documented exit status.
func TestPlanCommandExitCodes(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, readFile(t, filepath.Join("testdata", "plans", "blockers.sql")))
	db.Exec(t, readFile(t, filepath.Join("testdata", "plans", "bigint-with-int-sequence.sql")))
	db.Exec(t, `CREATE TABLE docs (slug text PRIMARY KEY); CREATE TABLE done (id bigint PRIMARY KEY);
		CREATE TABLE "Weird Table" ("Id" int PRIMARY KEY)`)

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"unknown table", []string{"--table", "nope", "--column", "id"}, 2, "", `table "public"."nope" not found`},
		{"unknown column", []string{"--table", "docs", "--column", "nope"}, 2, "", `column "nope" not found in "public"."docs"`},
		{"unknown schema", []string{"--schema", "nope", "--table", "docs", "--column", "slug"}, 2, "", `schema "nope" has no tables`},
		{"wrong type", []string{"--table", "docs", "--column", "slug"}, 2, "", "column is text, not an integer type"},
		{"case matters", []string{"--table", "weird table", "--column", "Id"}, 2, "", "names are case-sensitive"},
		{"quoted names", []string{"--table", "Weird Table", "--column", "Id"}, 0, `ALTER TABLE "public"."Weird Table" ADD COLUMN "Id_pgwiden_new"`, ""},
		{"already bigint", []string{"--table", "done", "--column", "id"}, 0, "Nothing to do: public.done.id is already bigint", ""},
		{"bigint fed by an integer sequence", []string{"--table", "orders", "--column", "id"}, 0, `ALTER SEQUENCE "public"."orders_id_seq" AS bigint`, ""},
		{"blockers", []string{"--table", "accounts", "--column", "id"}, 4, "[generated-dep] public.accounts.id", "blocker(s): fix them"},
		{"missing flag", []string{"--table", "docs"}, 2, "", `--column not set`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", db.DSN, "plan"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if tc.stderr != "" && (strings.Count(strings.TrimSpace(stderr), "\n") > 0 || !strings.HasPrefix(stderr, "pgwiden: ")) {
				t.Errorf("error is not one line starting pgwiden: %q", stderr)
			}
		})
	}
}

// TestPlanNeedsOwnership plans as a role that can read the catalog but
// owns nothing: the plan is refused with a blocker naming the owner.
func TestPlanNeedsOwnership(t *testing.T) {
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "plans", "fk-chain-3-levels.sql"))
	db.Exec(t, `DO $$ BEGIN CREATE ROLE pgwiden_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
		GRANT USAGE ON SCHEMA public TO pgwiden_reader`)
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSNAs("pgwiden_reader"), "plan", "--table", "tags", "--column", "id")
	if code != 4 || !strings.Contains(stdout, "[not-owner] public.tags") || !strings.Contains(stdout, "run pgwiden as the owner") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func readFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

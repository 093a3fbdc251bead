package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestStatusOneMigration: `status --table --column` shows one migration
// in detail, its tables and every step of its plan with what is done; the
// global flags work after the command's name too.
func TestStatusOneMigration(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	cliPhase(ctx, t, db, 0, "prepare")
	cliPhase(ctx, t, db, 0, "backfill", "--batch-size", "100")
	// Global flags after the command: --dsn and --log-level.
	stdout, stderr, code := runPgwiden(ctx, t, "status", "--table", "tags", "--column", "id", "--dsn", db.DSN, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("status --table --column: exit %d\n%s", code, stderr)
	}
	cliMatch(t, "target", `(?m)^target: +public\.tags\.id$`, stdout)
	cliMatch(t, "phase", `(?m)^phase: +backfilled$`, stdout)
	cliMatch(t, "tables", `(?m)^tables: +public\.tags \(id\), .*public\.taggings \(tag_id\)`, stdout)
	cliMatch(t, "steps done", `(?m)^steps done: +\d+ of \d+$`, stdout)
	cliMatch(t, "a prepare step done", `(?m)^prepare/add-shadow/public\.tags +ACCESS EXCLUSIVE +yes$`, stdout)
	cliMatch(t, "a cutover step to do", `(?m)^cutover/swap +ACCESS EXCLUSIVE +no$`, stdout)
	cliMatch(t, "a batched step done", `(?m)^backfill/copy/public\.tags +ROW EXCLUSIVE +yes$`, stdout)
	if strings.Contains(stdout, "rollback/") {
		t.Errorf("status of a migration going forward lists the rollback's steps:\n%s", stdout)
	}
	cliMatch(t, "task row", `(?m)^public\.taggings +copy +[\d,]+ +[\d,]+ +100\.0% +[\d,]+ +- +yes$`, stdout)

	stdout, stderr, code = runPgwiden(ctx, t, "status", "--json", "--table", "tags", "--column", "id", "--dsn", db.DSN)
	if code != 0 {
		t.Fatalf("status --json --table --column: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Migrations []struct {
			Target string `json:"target"`
			Steps  []struct {
				ID   string `json:"id"`
				Done bool   `json:"done"`
			} `json:"steps"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("decode status --json: %v\n%s", err, stdout)
	}
	if len(doc.Migrations) != 1 || doc.Migrations[0].Target != "public.tags.id" || len(doc.Migrations[0].Steps) == 0 {
		t.Fatalf("status --json --table --column: want the one migration with its steps, got %s", stdout)
	}
	done := map[string]bool{}
	for _, s := range doc.Migrations[0].Steps {
		done[strings.SplitN(s.ID, "/", 2)[0]] = done[strings.SplitN(s.ID, "/", 2)[0]] || s.Done
	}
	if !done["prepare"] || done["cutover"] {
		t.Errorf("steps done by phase = %v: want prepare's done, cutover's not", done)
	}

	stdout, _, code = runPgwiden(ctx, t, "--dsn", db.DSN, "status", "--table", "nosuch", "--column", "id")
	if code != 0 || strings.TrimSpace(stdout) != "no migration of public.nosuch.id" {
		t.Errorf("status of a target without migration: exit %d, %q", code, stdout)
	}
	_, stderr, code = runPgwiden(ctx, t, "--dsn", db.DSN, "status", "--table", "tags")
	if code != 2 || !strings.Contains(cliErrorLine(t, stderr), "--table and --column together") {
		t.Errorf("status --table without --column: exit %d, %s", code, stderr)
	}
}

// TestGlobalFlagsAfterCommand: a global flag given after the command's
// name is used, and wins over the one given before it.
func TestGlobalFlagsAfterCommand(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	_, stderr, code := runPgwiden(ctx, t, "--dsn", "host=/nonexistent-before", "plan", "--table", "tags", "--column", "id",
		"--log-format", "json", "--dsn", db.DSN)
	if code != 0 {
		t.Fatalf("plan with --dsn after the command: exit %d\n%s", code, stderr)
	}
	_, stderr, code = runPgwiden(ctx, t, "prepare", "--table", "tags", "--column", "id", "--dsn", db.DSN, "--log-format", "json", "--log-level", "info")
	if code != 0 {
		t.Fatalf("prepare with global flags after the command: exit %d\n%s", code, stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("--log-format json after the command: a line is not JSON: %q", l)
		}
	}
	_, stderr, code = runPgwiden(ctx, t, "--dsn", db.DSN, "status", "--log-format", "bogus")
	if code != 2 || !strings.Contains(cliErrorLine(t, stderr), `--log-format "bogus"`) {
		t.Errorf("status --log-format bogus: exit %d, %s", code, stderr)
	}
}

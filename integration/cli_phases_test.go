package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// cliScenario is the schema every phase test runs on: tags.id referenced
// three levels deep, with a view, a check and a user trigger.
var cliScenario = filepath.Join("testdata", "plans", "fk-chain-3-levels.sql")

// cliTarget are the target flags of cliScenario.
var cliTarget = []string{"--table", "tags", "--column", "id"}

// cliClosure are the columns the migration widens, table and column.
var cliClosure = [][2]string{{"tags", "id"}, {"tag_stats", "tag_id"}, {"tag_stat_snapshots", "tag_id"}, {"taggings", "tag_id"}}

// cliDB is the scenario with rows in every table.
func cliDB(t *testing.T) *pgtest.DB {
	db := newDBWith(t, cliScenario)
	seed(t, db, "fk-chain-3-levels")
	return db
}

// cliPhase runs `pgwiden <cmd> <target> <flags>` at --log-level warn and
// checks its exit code.
func cliPhase(ctx context.Context, t *testing.T, db *pgtest.DB, want int, cmd string, flags ...string) (string, string) {
	t.Helper()
	args := append(append([]string{"--dsn", db.DSN, "--log-level", "warn", cmd}, cliTarget...), flags...)
	stdout, stderr, code := runPgwiden(ctx, t, args...)
	if code != want {
		t.Fatalf("pgwiden %s %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmd, flags, code, want, stdout, stderr)
	}
	return stdout, stderr
}

// cliErrorLine returns the one "pgwiden: " line of stderr, failing unless
// there is exactly one.
func cliErrorLine(t *testing.T, stderr string) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "pgwiden: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("want one error line starting pgwiden:, got %d in:\n%s", len(lines), stderr)
	}
	return lines[0]
}

func cliMatch(t *testing.T, what, pattern, s string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(s) {
		t.Errorf("%s: %q does not match %s", what, s, pattern)
	}
}

// cliStatusOut mirrors the documented `status --json` format.
type cliStatusOut struct {
	FormatVersion int `json:"format_version"`
	Migrations    []struct {
		ID        int64  `json:"id"`
		Target    string `json:"target"`
		Phase     string `json:"phase"`
		LastError string `json:"last_error"`
		Holder    *struct {
			PID             int    `json:"pid"`
			ApplicationName string `json:"application_name"`
		} `json:"holder"`
		Tasks []struct {
			StepID       string   `json:"step_id"`
			Table        string   `json:"table"`
			RowsDone     int64    `json:"rows_done"`
			RowsEstimate *int64   `json:"rows_estimate"`
			Percent      *float64 `json:"percent"`
			RowsPerS     float64  `json:"rows_per_s"`
			Done         bool     `json:"done"`
		} `json:"tasks"`
	} `json:"migrations"`
}

func cliStatus(ctx context.Context, t *testing.T, db *pgtest.DB) cliStatusOut {
	t.Helper()
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "status", "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d\n%s", code, stderr)
	}
	var out cliStatusOut
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("decode status --json: %v\n%s", err, stdout)
	}
	if out.FormatVersion != 1 {
		t.Errorf("status format_version %d, want 1", out.FormatVersion)
	}
	return out
}

// TestCLIPhasesFullRun widens tags.id through the binary, phase by phase,
// and checks what each step promises: summaries, progress lines, status,
// a refused cleanup without --yes, bigint columns that take values above
// 2^31-1, and re-runs that do nothing, right after the phase and once the
// migration is done.
func TestCLIPhasesFullRun(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)

	out, _ := cliPhase(ctx, t, db, 0, "prepare")
	cliMatch(t, "prepare summary", `^prepare: done \(migration \d+, 4 tables\)\n$`, out)
	cliRerun(ctx, t, db, "prepare", "prepared")

	// Batches of 40 rows: several batches per table. At --log-level info,
	// with stderr not a terminal, progress is logged as JSON lines every
	// --progress-interval, and every table ends with a final line.
	args := append(append([]string{"--dsn", db.DSN, "backfill"}, cliTarget...), "--batch-size", "40", "--progress-interval", "1ns")
	out, logs, code := runPgwiden(ctx, t, args...)
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, logs)
	}
	cliMatch(t, "backfill summary", `^backfill: done \(migration \d+, 4 tables, \d+ rows copied\)\n$`, out)
	for _, table := range []string{"public.tags", "public.tag_stats", "public.tag_stat_snapshots", "public.taggings"} {
		line := cliFindLine(logs, `"message":"table done"`, `"table":"`+table+`"`)
		if !regexp.MustCompile(`"step":"backfill/copy/[^"]+","table":"[^"]+","scanned":\d+,"estimate":\d+,"copied":\d+,` +
			`"rows_per_s":[\d.]+,"eta_s":\d+,"throttled":"","done":true`).MatchString(line) {
			t.Errorf("backfill logged no final progress line for %s:\n%s", table, logs)
		}
	}

	if line := cliFindLine(logs, `"message":"progress"`, `"step":"backfill/copy/public.taggings"`); !strings.Contains(line, `"scanned":`) {
		t.Errorf("backfill logged no progress line for public.taggings at --progress-interval 1ns:\n%s", logs)
	}
	cliRerun(ctx, t, db, "backfill", "backfilled")

	st := cliStatus(ctx, t, db)
	if len(st.Migrations) != 1 || st.Migrations[0].Phase != "backfilled" || st.Migrations[0].Target != "public.tags.id" {
		t.Fatalf("status after backfill: %+v", st)
	}
	if tasks := st.Migrations[0].Tasks; len(tasks) != 4 {
		t.Errorf("status after backfill: %d tasks, want one per table: %+v", len(tasks), tasks)
	} else {
		for _, tk := range tasks {
			if !tk.Done || tk.Percent == nil || *tk.Percent != 100 || !strings.HasPrefix(tk.StepID, "backfill/copy/") {
				t.Errorf("task after backfill: %+v", tk)
			}
		}
	}

	out, _ = cliPhase(ctx, t, db, 0, "cutover")
	cliMatch(t, "cutover summary", `^cutover: done \(migration \d+, 4 tables; swap: 1 attempt\(s\), exclusive locks held [0-9.]+(us|ms|s)\)\n$`, out)
	cliRerun(ctx, t, db, "cutover", "cut over")

	// No terminal, no --yes: refused before anything happens.
	_, stderr := cliPhase(ctx, t, db, 2, "cleanup")
	cliMatch(t, "cleanup without --yes", `pass --yes`, cliErrorLine(t, stderr))
	if st := cliStatus(ctx, t, db); st.Migrations[0].Phase != "cut_over" {
		t.Fatalf("cleanup without --yes changed the phase to %s", st.Migrations[0].Phase)
	}

	out, _ = cliPhase(ctx, t, db, 0, "cleanup", "--yes")
	cliMatch(t, "cleanup summary", `^cleanup: done \(migration \d+, 4 tables; old columns dropped`, out)

	for _, c := range cliClosure {
		if typ := columnType(t, ctx, db.Pool, c[0], c[1]); typ != "bigint" {
			t.Errorf("%s.%s is %s after cleanup", c[0], c[1], typ)
		}
	}
	db.Exec(t, `INSERT INTO tags (id, name) VALUES (3000000000, 'big');
		INSERT INTO tag_stats (tag_id, uses) VALUES (3000000000, 1);
		INSERT INTO tag_stat_snapshots (tag_id) VALUES (3000000000);
		INSERT INTO taggings (tag_id, item_id) VALUES (3000000000, 1);
		SELECT setval('tags_id_seq', 2147483647);
		INSERT INTO tags (name) VALUES ('from the sequence, past int4')`)

	for _, cmd := range []string{"prepare", "backfill", "cutover", "cleanup"} {
		cliRerun(ctx, t, db, cmd, "done")
	}
	if st := cliStatus(ctx, t, db); len(st.Migrations) != 1 || st.Migrations[0].Phase != "done" {
		t.Errorf("status at the end: %+v", st)
	}
}

// cliRerun runs a phase that has nothing left to do: exit 0 and a line
// that says so. It does not stop the test, so every re-run is checked.
func cliRerun(ctx context.Context, t *testing.T, db *pgtest.DB, cmd, phase string) {
	t.Helper()
	args := append([]string{"--dsn", db.DSN, "--log-level", "warn", cmd}, cliTarget...)
	if cmd == "cleanup" {
		args = append(args, "--yes")
	}
	stdout, stderr, code := runPgwiden(ctx, t, args...)
	want := fmt.Sprintf("%s: nothing to do (migration ", cmd)
	if code != 0 || !strings.HasPrefix(stdout, want) || !strings.HasSuffix(stdout, " is "+phase+")\n") {
		t.Errorf("%s again when the migration is %s: exit %d, want 0 and %q\nstdout: %s\nstderr: %s", cmd, phase, code, want+"N is "+phase+")", stdout, stderr)
	}
}

// cliFindLine returns the first line of s containing every one of subs.
func cliFindLine(s string, subs ...string) string {
next:
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if !strings.Contains(l, sub) {
				continue next
			}
		}
		return l
	}
	return ""
}

// TestCLIPhasesOutOfOrder runs phases before the one they need: exit 2,
// one line naming the command to run first, and the schema unchanged.
func TestCLIPhasesOutOfOrder(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	before := schemaDump(t, db)
	check := func(cmd, first string) {
		t.Helper()
		var flags []string
		if cmd == "cleanup" {
			flags = []string{"--yes"}
		}
		_, stderr := cliPhase(ctx, t, db, 2, cmd, flags...)
		cliMatch(t, cmd+" out of order", `^pgwiden: migration of public\.tags\.id is .*: run pgwiden `+first+` first$`, cliErrorLine(t, stderr))
	}
	for _, cmd := range []string{"backfill", "cutover", "cleanup", "rollback"} {
		check(cmd, "prepare")
	}
	if after := schemaDump(t, db); after != before {
		t.Fatalf("refused phases changed the schema:\n%s", firstDiff(before, after))
	}
	// The error names the next command the migration needs, not the
	// phase just before the one asked for.
	cliPhase(ctx, t, db, 0, "prepare")
	check("cutover", "backfill")
	check("cleanup", "backfill")
	cliPhase(ctx, t, db, 0, "backfill")
	check("cleanup", "cutover")
}

// TestCLIPhasesDryRun runs every phase with --dry-run at the point where it
// would run: each prints its SQL with the locks and changes nothing, not
// the schema, not pgwiden's state, and before the first prepare it does
// not even create schema pgwiden.
func TestCLIPhasesDryRun(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	dry := func(cmd string) string {
		t.Helper()
		schema, st := schemaDump(t, db), cliStateDigest(ctx, t, db)
		out, _ := cliPhase(ctx, t, db, 0, cmd, "--dry-run")
		if !strings.Contains(out, "\n-- lock: ") || !strings.Contains(out, "nothing below has been run") {
			t.Errorf("%s --dry-run does not show the statements with their locks:\n%s", cmd, out)
		}
		if after := schemaDump(t, db); after != schema {
			t.Errorf("%s --dry-run changed the schema:\n%s", cmd, firstDiff(schema, after))
		}
		if after := cliStateDigest(ctx, t, db); after != st {
			t.Errorf("%s --dry-run changed pgwiden's state:\nbefore: %s\nafter:  %s", cmd, st, after)
		}
		return out
	}

	out := dry("prepare")
	if !strings.Contains(out, `ALTER TABLE "public"."tags" ADD COLUMN`) {
		t.Errorf("prepare --dry-run does not show the shadow column:\n%s", out)
	}
	var exists bool
	if err := db.Pool.QueryRow(ctx, "SELECT to_regnamespace('pgwiden') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Fatalf("prepare --dry-run created schema pgwiden (%v)", err)
	}
	cliPhase(ctx, t, db, 0, "prepare")
	dry("backfill")
	dry("rollback")
	cliPhase(ctx, t, db, 0, "backfill")
	if out := dry("cutover"); !strings.Contains(out, "cutover/swap") {
		t.Errorf("cutover --dry-run does not show the swap:\n%s", out)
	}
	cliPhase(ctx, t, db, 0, "cutover")
	if out := dry("cleanup"); !strings.Contains(out, "DROP") {
		t.Errorf("cleanup --dry-run (no --yes needed) does not drop anything:\n%s", out)
	}
}

// cliStateDigest is the content of pgwiden's state tables as one string,
// "" when the schema does not exist.
func cliStateDigest(ctx context.Context, t *testing.T, db *pgtest.DB) string {
	t.Helper()
	var exists bool
	if err := db.Pool.QueryRow(ctx, "SELECT to_regclass('pgwiden.migrations') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return ""
	}
	var s string
	err := db.Pool.QueryRow(ctx, `SELECT
		coalesce((SELECT string_agg(format('%s %s %s %s', id, phase, updated_at, last_error), '; ' ORDER BY id) FROM pgwiden.migrations), '')
		|| ' | ' || coalesce((SELECT string_agg(format('%s %s %s %s', migration_id, step_id, state, finished_at), '; '
			ORDER BY migration_id, step_id) FROM pgwiden.steps), '')
		|| ' | ' || coalesce((SELECT string_agg(format('%s %s %s %s %s', migration_id, step_id, cursor, rows_done, done), '; '
			ORDER BY migration_id, step_id) FROM pgwiden.tasks), '')`).Scan(&s)
	if err != nil {
		t.Fatalf("read pgwiden's state: %v", err)
	}
	return s
}

// TestCLIPhasesRollback rolls back after prepare and backfill: pg_dump
// --schema-only (without schema pgwiden) is byte-identical to the dump
// before prepare, a second rollback does nothing, and the column can be
// prepared again.
func TestCLIPhasesRollback(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	before := schemaDump(t, db)
	cliPhase(ctx, t, db, 0, "prepare")
	cliPhase(ctx, t, db, 0, "backfill")
	out, _ := cliPhase(ctx, t, db, 0, "rollback")
	cliMatch(t, "rollback summary", `^rollback: done \(migration \d+, 4 tables restored as before prepare\)\n$`, out)
	if after := schemaDump(t, db); after != before {
		t.Errorf("schema after rollback differs from before prepare:\n%s", firstDiff(before, after))
	}
	out, _ = cliPhase(ctx, t, db, 0, "rollback")
	cliMatch(t, "rollback re-run", `^rollback: nothing to do \(migration \d+ is rolled back\)\n$`, out)
	st := cliStatus(ctx, t, db)
	if len(st.Migrations) != 1 || st.Migrations[0].Phase != "rolled_back" {
		t.Fatalf("status after rollback: %+v", st)
	}
	out, _ = cliPhase(ctx, t, db, 0, "prepare")
	cliMatch(t, "prepare after rollback", fmt.Sprintf(`^prepare: done \(migration %d, 4 tables\)\n$`, st.Migrations[0].ID+1), out)
}

// TestCLIPhasesBusy holds the migration's lock from the test, through
// state.Store.Lock on a pool of its own: a phase exits 5 naming the
// holder's pid, and status shows the holder without taking the lock.
func TestCLIPhasesBusy(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	cliPhase(ctx, t, db, 0, "prepare")

	cfg, err := pgxpool.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "pgwiden-test-holder"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st, err := state.Open(ctx, pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "tags"}, Column: "id"}
	lock, err := st.Lock(ctx, target.String())
	if err != nil {
		t.Fatal(err)
	}
	pid := int(lock.PID())

	_, stderr := cliPhase(ctx, t, db, 5, "backfill")
	cliMatch(t, "busy backfill", fmt.Sprintf(`^pgwiden: .*held by pid %d \(application_name=pgwiden-test-holder`, pid), cliErrorLine(t, stderr))

	s := cliStatus(ctx, t, db)
	if h := s.Migrations[0].Holder; h == nil || h.PID != pid || h.ApplicationName != "pgwiden-test-holder" {
		t.Errorf("status --json holder: %+v, want pid %d", h, pid)
	}
	text, _, code := runPgwiden(ctx, t, "--dsn", db.DSN, "status")
	if code != 0 || !strings.Contains(text, fmt.Sprintf("pid %d (pgwiden-test-holder", pid)) || !strings.Contains(text, "public.tags.id") {
		t.Errorf("status: exit %d, want the holder's pid %d:\n%s", code, pid, text)
	}

	if err := lock.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	cliPhase(ctx, t, db, 0, "backfill")
	if h := cliStatus(ctx, t, db).Migrations[0].Holder; h != nil {
		t.Errorf("status --json after the lock was released: holder %+v", h)
	}
}

// TestStatusNoMigrations: in a database pgwiden never touched, status
// prints "no migrations" and creates nothing.
func TestStatusNoMigrations(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "status")
	if code != 0 || stdout != "no migrations\n" {
		t.Errorf("status: exit %d\nstdout: %q\nstderr: %s", code, stdout, stderr)
	}
	stdout, stderr, code = runPgwiden(ctx, t, "--dsn", db.DSN, "status", "--json")
	if code != 0 || strings.Join(strings.Fields(stdout), "") != `{"format_version":1,"migrations":[]}` {
		t.Errorf("status --json: exit %d\nstdout: %q\nstderr: %s", code, stdout, stderr)
	}
	var exists bool
	if err := db.Pool.QueryRow(ctx, "SELECT to_regnamespace('pgwiden') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Errorf("status created schema pgwiden (%v)", err)
	}
}

// TestStatusText shows a migration and its tasks as tables.
func TestStatusText(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	cliPhase(ctx, t, db, 0, "prepare")
	cliPhase(ctx, t, db, 0, "backfill", "--batch-size", "100")
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "status")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	cliMatch(t, "status header", `(?m)^ID +TARGET +PHASE +CREATED +UPDATED +RUNNING +LAST ERROR$`, stdout)
	cliMatch(t, "status row", `(?m)^\d+ +public\.tags\.id +backfilled +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +- +-$`, stdout)
	cliMatch(t, "task row", `(?m)^public\.taggings +copy +[\d,]+ +[\d,]+ +100\.0% +[\d,]+ +- +yes$`, stdout)
}

// TestCLIPhasesStepError makes a cleanup statement fail on the server: the
// error is one line with the step, the SQLSTATE, DETAIL and HINT, status
// shows it, and once the cause is gone the same command finishes.
func TestCLIPhasesStepError(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	for _, cmd := range []string{"prepare", "backfill", "cutover"} {
		cliPhase(ctx, t, db, 0, cmd)
	}
	db.Exec(t, "CREATE VIEW old_ids AS SELECT id_pgwiden_old FROM tags")
	_, stderr := cliPhase(ctx, t, db, 1, "cleanup", "--yes")
	line := cliErrorLine(t, stderr)
	for _, want := range []string{"cleanup/check-dependents", "(SQLSTATE 2BP01)", "DETAIL: view old_ids depends on column", "HINT: "} {
		if !strings.Contains(line, want) {
			t.Errorf("cleanup error does not contain %q:\n%s", want, line)
		}
	}
	if st := cliStatus(ctx, t, db); !strings.Contains(st.Migrations[0].LastError, "2BP01") {
		t.Errorf("status does not show the last error: %+v", st.Migrations[0])
	}
	db.Exec(t, "DROP VIEW old_ids")
	out, _ := cliPhase(ctx, t, db, 0, "cleanup", "--yes")
	cliMatch(t, "cleanup after the fix", `^cleanup: done `, out)
}

// TestCLIPhasesBlocked: prepare refuses a plan with blockers with exit 4
// and one line naming the first blocker and its fix; the user's schema is
// unchanged.
func TestCLIPhasesBlocked(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "plans", "blockers.sql"))
	before := schemaDump(t, db)
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "--log-level", "warn", "prepare", "--table", "accounts", "--column", "id")
	if code != 4 {
		t.Fatalf("prepare with blockers: exit %d, want 4\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	cliMatch(t, "blocked prepare", `^pgwiden: public\.accounts\.id cannot be migrated: .*; fix: .*see pgwiden plan\)$`, cliErrorLine(t, stderr))
	if after := schemaDump(t, db); after != before {
		t.Errorf("a refused prepare changed the schema:\n%s", firstDiff(before, after))
	}
}

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// rehearseTarget are the target flags of the engine suite's schema
// (saas.sql): a mixed-case serial key referenced by a 2-level chain, a
// composite FK, an identity column, a partitioned table, and a view.
var rehearseTarget = []string{"--table", "Tags", "--column", "Id"}

// saasRows is how many rows saas.sql puts in the closure's tables, which
// the backfill must walk: Tags 1000, events 1200, tag_assignments 1500,
// tag_details 333, tag_stats 600, tag_stat_snapshots 1200.
const saasRows = 5833

// rehearseOut mirrors the documented JSON report (README, Rehearsal).
type rehearseOut struct {
	FormatVersion int      `json:"format_version"`
	Target        string   `json:"target"`
	Database      string   `json:"database"`
	Passed        bool     `json:"passed"`
	Problems      []string `json:"problems"`
	StagingCheck  string   `json:"staging_check"`
	FinalPhase    string   `json:"final_phase"`
	Kept          bool     `json:"kept"`
	Phases        []struct {
		Name       string  `json:"name"`
		Seconds    float64 `json:"duration_s"`
		OK         bool    `json:"ok"`
		WALBytes   *int64  `json:"wal_bytes"`
		TotalBytes int64   `json:"total_bytes_after"`
		Sizes      []struct {
			Table      string `json:"table"`
			TotalBytes int64  `json:"total_bytes"`
		} `json:"sizes_after"`
	} `json:"phases"`
	Backfill struct {
		Rows     int64   `json:"rows"`
		RowsPerS float64 `json:"rows_per_s"`
	} `json:"backfill"`
	Verification struct {
		Passed bool `json:"passed"`
		Walk   struct {
			Rows int64 `json:"rows"`
		} `json:"walk"`
	} `json:"verification"`
	Locks struct {
		Swap *struct {
			Attempts int     `json:"attempts"`
			HeldMS   float64 `json:"held_ms"`
		} `json:"swap"`
		SwapBack *struct {
			Attempts int `json:"attempts"`
		} `json:"swap_back"`
		Steps []struct {
			Phase  string  `json:"phase"`
			Step   string  `json:"step"`
			Lock   string  `json:"lock"`
			TookMS float64 `json:"took_ms"`
		} `json:"steps"`
	} `json:"locks"`
	Disk struct {
		Before []struct {
			Table      string `json:"table"`
			TotalBytes int64  `json:"total_bytes"`
		} `json:"before"`
		BeforeBytes int64 `json:"before_bytes"`
	} `json:"disk"`
	WALBytes *int64 `json:"wal_bytes"`
	Warnings []struct {
		Source  string `json:"source"`
		Message string `json:"message"`
	} `json:"warnings"`
	Load []struct {
		Name   string `json:"name"`
		Phases []struct {
			Phase      string `json:"phase"`
			Statements int64  `json:"statements"`
			Errors     int64  `json:"errors"`
		} `json:"phases"`
	} `json:"load"`
	SchemaCheck *struct {
		Method    string `json:"method"`
		Checked   bool   `json:"checked"`
		Identical bool   `json:"identical"`
		Fallback  string `json:"fallback"`
	} `json:"schema_check"`
	Extrapolation *struct {
		Source string `json:"source"`
		Tables []struct {
			Table     string  `json:"table"`
			RowFactor float64 `json:"row_factor"`
		} `json:"tables"`
		Phases []struct {
			Name              string  `json:"name"`
			StagingSeconds    float64 `json:"staging_s"`
			ProductionSeconds float64 `json:"production_s"`
			FixedSeconds      float64 `json:"fixed_s"`
			Work              []struct {
				Kind              string  `json:"kind"`
				StagingSeconds    float64 `json:"staging_s"`
				Factor            float64 `json:"factor"`
				ProductionSeconds float64 `json:"production_s"`
			} `json:"work"`
		} `json:"phases"`
	} `json:"extrapolation"`
	Production *struct {
		Database string `json:"database"`
	} `json:"production"`
}

// runRehearse runs `pgwiden --dsn DSN rehearse <target> <flags>` with
// extra environment variables and checks its exit code.
func runRehearse(ctx context.Context, t *testing.T, db *pgtest.DB, want int, env []string, flags ...string) (string, string) {
	t.Helper()
	args := append(append([]string{"--dsn", db.DSN, "--log-level", "warn", "rehearse"}, rehearseTarget...), flags...)
	cmd := exec.CommandContext(ctx, pgtest.Binary(t), args...)
	cmd.Env = append(append(os.Environ(), "PGWIDEN_DSN=", "DATABASE_URL=", "PGCONNECT_TIMEOUT=5"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run pgwiden %v: %v", args, err)
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		t.Fatalf("pgwiden rehearse %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", flags, code, want, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// readRehearseJSON decodes a JSON report file.
func readRehearseJSON(t *testing.T, path string) rehearseOut {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out rehearseOut
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %s: %v\n%s", path, err, b)
	}
	return out
}

// TestRehearseReport rehearses the whole migration under the builtin
// load, with a JSON report, and checks every figure the report promises;
// then a second rehearsal of the same column writes markdown to stdout.
func TestRehearseReport(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	path := filepath.Join(t.TempDir(), "report.json")
	stdout, _ := runRehearse(ctx, t, db, 0, nil, "--i-know-this-is-staging", "--report", path, "--json",
		"--batch-size", "200", "--load-builtin", "100", "--load", "SELECT count(*) FROM tag_usage", "--load-rate", "50",
		"--load-baseline", "300ms", "--production-rows", "100000")
	cliMatch(t, "summary line", `^rehearse: passed public\.Tags\.Id \(report: .*report\.json\)\n$`, stdout)
	rep := readRehearseJSON(t, path)
	if !rep.Passed || len(rep.Problems) > 0 || rep.FormatVersion != 1 || rep.FinalPhase != "rolled_back" {
		t.Fatalf("report: passed %v, problems %q, format %d, final phase %s", rep.Passed, rep.Problems, rep.FormatVersion, rep.FinalPhase)
	}
	checkRehearsePhases(t, rep, "prepare", "backfill", "cutover", "rollback")
	checkRehearseFigures(t, rep)
	want := rehearsalSchemaMethod(t)
	if c := rep.SchemaCheck; c == nil || c.Method != want || !c.Checked || !c.Identical {
		t.Errorf("schema check %+v, want %s, checked and identical", c, want)
	}
	if after := schemaDump(t, db); after != before {
		t.Errorf("schema after the rehearsal differs:\n%s", firstDiff(before, after))
	}
	checkRehearseLoad(t, rep)
	checkRehearseScaled(t, rep, 100) // 100,000 rows in production for 1,000 in staging

	// Rehearsing again starts a new migration: the last one is rolled back.
	md, _ := runRehearse(ctx, t, db, 0, nil, "--staging-check", "SELECT true")
	for _, want := range []string{"# pgwiden rehearsal: widen public.Tags.Id to bigint", "**Result: passed.**", "| prepare |", "| rollback |",
		"## Backfill", "## Locks that block writes", "**Identical** to the schema before prepare", "returned true on database"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown report lacks %q:\n%s", want, md)
		}
	}
	if after := schemaDump(t, db); after != before {
		t.Errorf("schema after the second rehearsal differs:\n%s", firstDiff(before, after))
	}
}

// checkRehearsePhases checks the phases ran, in order, and took time.
func checkRehearsePhases(t *testing.T, rep rehearseOut, want ...string) {
	t.Helper()
	var names []string
	for _, p := range rep.Phases {
		names = append(names, p.Name)
		if !p.OK || p.Seconds <= 0 {
			t.Errorf("phase %s: ok %v, %vs", p.Name, p.OK, p.Seconds)
		}
		if len(p.Sizes) != 6 || p.TotalBytes <= 0 {
			t.Errorf("phase %s: sizes of %d tables, total %d bytes; want 6 tables", p.Name, len(p.Sizes), p.TotalBytes)
		}
		if p.WALBytes == nil {
			t.Errorf("phase %s: no WAL figure", p.Name)
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("phases %v, want %v", names, want)
	}
}

// checkRehearseFigures checks the backfill, verification, locks, disk and
// WAL sections.
func checkRehearseFigures(t *testing.T, rep rehearseOut) {
	t.Helper()
	if rep.Backfill.Rows != saasRows || rep.Backfill.RowsPerS <= 0 {
		t.Errorf("backfill: %d rows at %v rows/s, want %d rows", rep.Backfill.Rows, rep.Backfill.RowsPerS, saasRows)
	}
	if !rep.Verification.Passed || rep.Verification.Walk.Rows != saasRows {
		t.Errorf("verification: passed %v over %d rows", rep.Verification.Passed, rep.Verification.Walk.Rows)
	}
	if sw := rep.Locks.Swap; sw == nil || sw.Attempts < 1 || sw.HeldMS <= 0 || sw.HeldMS > 3000 {
		t.Errorf("swap %+v, want at least 1 attempt and locks held under 3s", sw)
	}
	if sb := rep.Locks.SwapBack; sb == nil || sb.Attempts < 1 {
		t.Errorf("swap back %+v, want at least 1 attempt", sb)
	}
	exclusive := 0
	for _, s := range rep.Locks.Steps {
		if s.TookMS > 3000 {
			t.Errorf("step %s held %s for %vms", s.Step, s.Lock, s.TookMS)
		}
		if s.Lock == "ACCESS EXCLUSIVE" && strings.HasPrefix(s.Step, "prepare/add-shadow/") {
			exclusive++
		}
	}
	if exclusive != 6 {
		t.Errorf("%d prepare/add-shadow steps (ACCESS EXCLUSIVE) timed, want 6: %+v", exclusive, rep.Locks.Steps)
	}
	if len(rep.Disk.Before) != 6 || rep.Disk.BeforeBytes <= 0 {
		t.Errorf("disk before: %+v", rep.Disk)
	}
	if rep.WALBytes == nil || *rep.WALBytes <= 0 {
		t.Errorf("WAL %v, want > 0", rep.WALBytes)
	}
	plan := 0
	for _, w := range rep.Warnings {
		if w.Source == "plan" {
			plan++
		}
	}
	if plan == 0 {
		t.Error("no plan warning in the report: saas.sql has user triggers and a view")
	}
}

// checkRehearseLoad checks both loads ran in every phase from a
// baseline, and the builtin one without errors.
func checkRehearseLoad(t *testing.T, rep rehearseOut) {
	t.Helper()
	if len(rep.Load) != 2 || rep.Load[0].Name != "builtin" || rep.Load[1].Name != "script" {
		t.Fatalf("load: %+v, want the builtin and the script load", rep.Load)
	}
	for _, l := range rep.Load {
		var phases []string
		for _, p := range l.Phases {
			phases = append(phases, p.Phase)
			if p.Errors > 0 && l.Name == "builtin" {
				t.Errorf("builtin load: %d errors during %s", p.Errors, p.Phase)
			}
		}
		if len(phases) == 0 || phases[0] != "baseline" || l.Phases[0].Statements == 0 {
			t.Errorf("%s load phases %v, want a baseline with statements first", l.Name, phases)
		}
	}
}

// checkRehearseScaled checks the extrapolation scales rows-bound work by
// factor, keeps fixed work, and adds up.
func checkRehearseScaled(t *testing.T, rep rehearseOut, factor float64) {
	t.Helper()
	x := rep.Extrapolation
	if x == nil || len(x.Tables) != 6 || len(x.Phases) != 4 {
		t.Fatalf("extrapolation %+v, want 6 tables and 4 phases", x)
	}
	for _, tf := range x.Tables {
		if tf.RowFactor < factor*0.999 || tf.RowFactor > factor*1.001 {
			t.Errorf("%s: row factor %v, want %v", tf.Table, tf.RowFactor, factor)
		}
	}
	for _, p := range x.Phases {
		sum := p.FixedSeconds
		for _, w := range p.Work {
			sum += w.ProductionSeconds
			if w.Kind == "rows" && (w.Factor < factor*0.999 || w.Factor > factor*1.001 || w.ProductionSeconds < w.StagingSeconds*factor*0.999) {
				t.Errorf("%s: rows-bound work scaled by %v to %vs from %vs, want x%v", p.Name, w.Factor, w.ProductionSeconds, w.StagingSeconds, factor)
			}
			if w.Kind == "fixed" && w.Factor != 1 {
				t.Errorf("%s: fixed work scaled by %v", p.Name, w.Factor)
			}
		}
		if diff := sum - p.ProductionSeconds; diff > 1e-6 || diff < -1e-6 {
			t.Errorf("%s: work adds up to %vs, phase estimate %vs", p.Name, sum, p.ProductionSeconds)
		}
		if p.Name == "backfill" && p.ProductionSeconds < p.StagingSeconds*factor/2 {
			t.Errorf("backfill: %vs on staging, only %vs estimated for x%v the rows", p.StagingSeconds, p.ProductionSeconds, factor)
		}
	}
}

// TestRehearseKeep: --keep stops after the cutover, the columns bigint;
// the migration it leaves can be rolled back by the phase command.
func TestRehearseKeep(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	plan := saasPlan(t, ctx, db)
	path := filepath.Join(t.TempDir(), "report.json")
	runRehearse(ctx, t, db, 0, nil, "--i-know-this-is-staging", "--keep", "--report", path, "--json")
	rep := readRehearseJSON(t, path)
	if !rep.Passed || !rep.Kept || rep.FinalPhase != "cut_over" {
		t.Fatalf("report: passed %v kept %v final phase %s, problems %q", rep.Passed, rep.Kept, rep.FinalPhase, rep.Problems)
	}
	checkRehearsePhases(t, rep, "prepare", "backfill", "cutover")
	if rep.SchemaCheck == nil || rep.SchemaCheck.Checked {
		t.Errorf("schema check %+v, want none made with --keep", rep.SchemaCheck)
	}
	assertWidened(t, ctx, db, plan)
	// The kept migration is in progress: another rehearsal refuses to start.
	_, stderr := runRehearse(ctx, t, db, 2, nil, "--i-know-this-is-staging")
	cliMatch(t, "second rehearsal", `^pgwiden: migration \d+ of public\.Tags\.Id is in progress on this database \(cut_over\): finish it or run pgwiden rollback before rehearsing$`, cliErrorLine(t, stderr))
	args := append([]string{"--dsn", db.DSN, "--log-level", "warn", "rollback"}, rehearseTarget...)
	if stdout, stderr, code := runPgwiden(ctx, t, args...); code != 0 {
		t.Fatalf("rollback after rehearse --keep: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if after := schemaDump(t, db); after != before {
		t.Errorf("schema after rehearse --keep and rollback differs:\n%s", firstDiff(before, after))
	}
}

// TestRehearseRefused: without the operator's staging rule, or when it
// does not return true, nothing is written (exit 2); a true rule is
// accepted.
func TestRehearseRefused(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	cases := []struct {
		flags []string
		want  string
	}{
		{nil, "pass --staging-check"},
		{[]string{"--staging-check", "SELECT false"}, "returned false"},
		{[]string{"--staging-check", "SELECT NULL::boolean"}, "returned NULL"},
		{[]string{"--staging-check", "SELECT 1"}, "boolean"},
		{[]string{"--staging-check", "SELECT true, true"}, "one boolean column"},
		{[]string{"--staging-check", "SELECT true FROM generate_series(1, 2)"}, "more than one row"},
		{[]string{"--staging-check", "SELECT * FROM no_such_marker"}, "no_such_marker"},
		// The rule runs read-only: one that writes fails instead.
		{[]string{"--staging-check", "DELETE FROM tenants RETURNING true"}, "read-only transaction"},
		{[]string{"--staging-check", "SELECT true", "--production-dsn", db.DSN}, "points at the database being rehearsed on"},
	}
	for _, c := range cases {
		report := filepath.Join(t.TempDir(), "r.md")
		_, stderr := runRehearse(ctx, t, db, 2, nil, append(c.flags, "--report", report)...)
		if line := cliErrorLine(t, stderr); !strings.Contains(line, c.want) {
			t.Errorf("rehearse %q: error %q, want it to mention %q", c.flags, line, c.want)
		}
		if _, err := os.Stat(report); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("rehearse %q: refused, yet the report file exists (%v)", c.flags, err)
		}
	}
	if after := schemaDump(t, db); after != before {
		t.Errorf("a refused rehearsal changed the schema:\n%s", firstDiff(before, after))
	}
	if n := readRows(t, ctx, db.Pool, "SELECT count(*)::text FROM tenants"); n[0] != "3" {
		t.Errorf("tenants has %s rows after the refusals, want 3", n[0])
	}
	var pgwiden *string
	if err := db.Pool.QueryRow(ctx, "SELECT to_regnamespace('pgwiden')::text").Scan(&pgwiden); err != nil || pgwiden != nil {
		t.Errorf("schema pgwiden after refusals: %v (err %v), want none", pgwiden, err)
	}
	// The rule as an operator writes it, true on this database.
	path := filepath.Join(t.TempDir(), "report.json")
	runRehearse(ctx, t, db, 0, nil, "--staging-check", `SELECT current_database() LIKE 't\_%'`, "--report", path, "--json")
	if rep := readRehearseJSON(t, path); !rep.Passed || !strings.Contains(rep.StagingCheck, "returned true") {
		t.Errorf("accepted rehearsal: passed %v, staging check %q", rep.Passed, rep.StagingCheck)
	}
}

// rehearsalSchemaMethod is the schema check the rehearsal should pick on
// this server: pg_dump when the one in PATH is at least the server's major
// version (pg_dump refuses newer servers), the catalog snapshot otherwise.
func rehearsalSchemaMethod(t *testing.T) string {
	path, err := exec.LookPath("pg_dump")
	if err != nil {
		return "catalog"
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", path, err)
	}
	// "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
	fields := strings.Fields(string(out))
	if len(fields) < 3 {
		t.Fatalf("%s --version: %q", path, out)
	}
	major, err := strconv.Atoi(strings.SplitN(fields[2], ".", 2)[0])
	if err != nil {
		t.Fatalf("%s --version: %q: %v", path, out, err)
	}
	if major*10000 < pgtest.Version()/10000*10000 {
		return "catalog"
	}
	return "pg_dump"
}

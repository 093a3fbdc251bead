package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// auditSchema has one object of each kind the audit reports, and one
// healthy table. accounts gets its id past 2^31-1 only in the tests that
// want an already exhausted fk-to-wider-key.
const auditSchema = `
CREATE TABLE tags (id serial PRIMARY KEY, name text);
SELECT setval('tags_id_seq', 2000000000);
CREATE TABLE post_tags (post_id bigint, tag_id int REFERENCES tags (id));
CREATE TABLE tag_notes (tag_id int PRIMARY KEY REFERENCES tags (id), note text);
CREATE SEQUENCE events_id_seq AS bigint;
CREATE TABLE events (id int PRIMARY KEY DEFAULT nextval('events_id_seq'));
ALTER SEQUENCE events_id_seq OWNED BY events.id;
SELECT setval('events_id_seq', 1500000000);
CREATE SEQUENCE bigs_seq AS integer;
CREATE TABLE bigs (id bigint PRIMARY KEY DEFAULT nextval('bigs_seq'));
SELECT setval('bigs_seq', 1800000000);
CREATE TABLE accounts (id bigint PRIMARY KEY);
INSERT INTO accounts VALUES (1), (2);
CREATE TABLE logins (account_id int REFERENCES accounts (id), at timestamptz);
CREATE TABLE flags (id smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);
SELECT setval(pg_get_serial_sequence('flags', 'id'), 30000);
CREATE TABLE codes (code int UNIQUE, label text);
INSERT INTO codes VALUES (1200000000, 'a'), (5, 'b');
CREATE TABLE pairs (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE healthy (id serial PRIMARY KEY);
INSERT INTO healthy SELECT FROM generate_series(1, 1000);
`

// auditOutput mirrors the documented --json format.
type auditOutput struct {
	Findings []struct {
		Object         string   `json:"object"`
		Kind           string   `json:"kind"`
		Type           string   `json:"type"`
		Sequence       string   `json:"sequence"`
		Limit          int64    `json:"limit"`
		Current        *int64   `json:"current"`
		Used           float64  `json:"used"`
		AboveThreshold bool     `json:"above_threshold"`
		PerDay         *float64 `json:"per_day"`
		ExhaustsAt     *string  `json:"exhausts_at"`
		Note           string   `json:"note"`
	} `json:"findings"`
	Summary struct {
		Threshold      float64 `json:"threshold"`
		RatesFrom      string  `json:"rates_from"`
		Findings       int     `json:"findings"`
		AboveThreshold int     `json:"above_threshold"`
		MostUrgent     string  `json:"most_urgent"`
	} `json:"summary"`
}

// runPgwiden runs the built binary and returns its stdout, stderr and exit
// code. The environment carries no DSN, so only --dsn decides the server.
func runPgwiden(ctx context.Context, t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, pgtest.Binary(t), args...)
	cmd.Env = append(os.Environ(), "PGWIDEN_DSN=", "DATABASE_URL=", "PGCONNECT_TIMEOUT=5")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run pgwiden %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// auditJSON runs `audit --json` with extra flags, checks the exit code and
// decodes the report.
func auditJSON(ctx context.Context, t *testing.T, db *pgtest.DB, wantCode int, flags ...string) auditOutput {
	t.Helper()
	return auditDecode[auditOutput](ctx, t, db.DSN, wantCode, flags...)
}

// auditDecode runs `audit --json` on dsn with extra flags, checks the exit
// code and decodes the report into a T.
func auditDecode[T any](ctx context.Context, t *testing.T, dsn string, wantCode int, flags ...string) T {
	t.Helper()
	args := append([]string{"--dsn", dsn, "audit", "--json"}, flags...)
	stdout, stderr, code := runPgwiden(ctx, t, args...)
	if code != wantCode {
		t.Fatalf("pgwiden %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args[2:], code, wantCode, stdout, stderr)
	}
	var out T
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("decode audit --json: %v\n%s", err, stdout)
	}
	return out
}

func TestAuditFindings(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, auditSchema)

	// Nothing uses more than 99% yet: the check passes.
	if out := auditJSON(ctx, t, db, 0, "--threshold", "0.99"); out.Summary.AboveThreshold != 0 || out.Summary.Threshold != 0.99 {
		t.Errorf("--threshold 0.99: summary %+v, want nothing above", out.Summary)
	}

	// The bigint parent passes what its int4 children can hold.
	db.Exec(t, "INSERT INTO accounts VALUES (3000000000)")
	auditJSON(ctx, t, db, 3, "--threshold", "0.99")
	out := auditJSON(ctx, t, db, 3)

	const int4Max = math.MaxInt32
	want := []struct {
		object, kind, typ, seq string
		limit, current         int64 // current -1: unknown
		used                   float64
	}{
		{"public.logins.account_id", "fk-to-wider-key", "integer", "", int4Max, 3_000_000_000, 1.397},
		{"public.tags.id", "column", "integer", "public.tags_id_seq", int4Max, 2_000_000_000, 0.9313},
		{"public.post_tags.tag_id", "column", "integer", "", int4Max, 2_000_000_000, 0.9313}, // values of tags.id
		{"public.tag_notes.tag_id", "column", "integer", "", int4Max, 2_000_000_000, 0.9313},
		{"public.flags.id", "column", "smallint", "public.flags_id_seq", math.MaxInt16, 30_000, 0.9155},
		{"public.bigs_seq", "sequence", "integer", "", int4Max, 1_800_000_000, 0.8382},
		{"public.events.id", "column", "integer", "public.events_id_seq", int4Max, 1_500_000_000, 0.6985},
		{"public.codes.code", "column", "integer", "", int4Max, 1_200_000_000, 0.5588},
		{"public.healthy.id", "column", "integer", "public.healthy_id_seq", int4Max, 1000, 0},
		{"public.pairs.a", "column", "integer", "", int4Max, -1, 0}, // empty table
		{"public.pairs.b", "column", "integer", "", int4Max, -1, 0}, // second key column: no index leads with it
	}
	found := map[string]int{}
	for i, f := range out.Findings {
		found[f.Object] = i
	}
	for _, w := range want {
		j, ok := found[w.object]
		if !ok {
			t.Errorf("%s: not reported", w.object)
			continue
		}
		f := out.Findings[j]
		cur := int64(-1)
		if f.Current != nil {
			cur = *f.Current
		}
		if f.Kind != w.kind || f.Type != w.typ || f.Sequence != w.seq || f.Limit != w.limit || cur != w.current || math.Abs(f.Used-w.used) > 0.0001 {
			t.Errorf("%s: got %+v (current %d)\nwant %+v", w.object, f, cur, w)
		}
		if f.AboveThreshold != (w.used > 0.5) {
			t.Errorf("%s: above_threshold = %v at used %.4f", w.object, f.AboveThreshold, f.Used)
		}
	}
	if len(out.Findings) != len(want) {
		t.Errorf("got %d findings, want %d: %+v", len(out.Findings), len(want), out.Findings)
	}
	// Most urgent first: the one already past its limit (it alone has a
	// date without rates), then by fraction used.
	if f := out.Findings[0]; f.Object != "public.logins.account_id" || f.ExhaustsAt == nil {
		t.Errorf("first finding %s (exhausts_at %v), want public.logins.account_id, exhausted", f.Object, f.ExhaustsAt)
	}
	if f := out.Findings[1]; f.Object != "public.tags.id" {
		t.Errorf("second finding %s, want public.tags.id before the foreign keys that share its value", f.Object)
	}
	for i := 2; i < len(out.Findings); i++ {
		if a, b := out.Findings[i-1], out.Findings[i]; a.Used < b.Used {
			t.Errorf("%s (%.4f) comes before %s (%.4f)", a.Object, a.Used, b.Object, b.Used)
		}
	}
	if n := out.Findings[found["public.pairs.b"]].Note; n != "unknown (no index)" {
		t.Errorf("pairs.b note = %q", n)
	}
	if s := out.Summary; s.Threshold != 0.5 || s.AboveThreshold != 8 || s.Findings != len(want) || s.MostUrgent != "public.logins.account_id" || s.RatesFrom != "" {
		t.Errorf("summary = %+v", s)
	}

	// The text form shows the same, marked, with a summary line.
	stdout, _, code := runPgwiden(ctx, t, "--dsn", db.DSN, "audit")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 3 || !strings.HasPrefix(lines[4], "! public.logins.account_id") || !strings.Contains(stdout, "93.1%") ||
		!strings.Contains(stdout, "unknown (no index)") || !strings.Contains(stdout, "\n8 of 11 above 50% (marked !).\n") ||
		lines[len(lines)-1] != "START BY PASSED: public.logins.account_id has run out; widening it takes about 0s. Start now." {
		t.Errorf("text audit: exit %d\n%s", code, stdout)
	}
	t.Logf("text output:\n%s", stdout)

	var schema *string
	if err := db.Pool.QueryRow(ctx, "SELECT to_regnamespace('pgwiden')::text").Scan(&schema); err != nil || schema != nil {
		t.Errorf("audit without --record must write nothing; schema pgwiden: %v, %v", schema, err)
	}
}

func TestAuditRecordHistory(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, auditSchema)

	first := auditJSON(ctx, t, db, 3, "--record")
	auditJSON(ctx, t, db, 3, "--record")
	var rows int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pgwiden.audit_history
		WHERE object = 'public.tags.id' AND kind = 'column' AND value = 2000000000 AND "limit" = 2147483647`).Scan(&rows)
	if err != nil || rows != 2 {
		t.Fatalf("pgwiden.audit_history rows for public.tags.id: %d, %v; want 2", rows, err)
	}
	if first.Summary.RatesFrom != "" {
		t.Errorf("first run has no history, rates_from = %q", first.Summary.RatesFrom)
	}

	// A day ago tags.id was a million lower: the next run sees 1e6/day,
	// which leaves 147,483,647 values for about 147 days.
	db.Exec(t, `INSERT INTO pgwiden.audit_history (taken_at, object, kind, value, "limit")
		VALUES (now() - interval '1 day', 'public.tags.id', 'column', 1999000000, 2147483647)`)
	out := auditJSON(ctx, t, db, 3)
	if out.Summary.RatesFrom != "history" {
		t.Errorf("rates_from = %q, want history", out.Summary.RatesFrom)
	}
	// The only finding with a date comes first, though others use more.
	if out.Findings[0].Object != "public.tags.id" {
		t.Fatalf("want public.tags.id first: %+v", out.Findings)
	}
	tags := out.Findings[0]
	if tags.PerDay == nil || math.Abs(*tags.PerDay-1e6) > 1e6*0.001 {
		t.Errorf("tags.id per_day = %v, want ~1e6", tags.PerDay)
	}
	if tags.ExhaustsAt == nil {
		t.Fatal("tags.id: want exhausts_at")
	}
	at, err := time.Parse(time.RFC3339, *tags.ExhaustsAt)
	if days := time.Until(at).Hours() / 24; err != nil || days < 147 || days > 148 {
		t.Errorf("tags.id exhausts_at %s (%v): %.1f days away, want ~147.5", *tags.ExhaustsAt, err, days)
	}
	// Readings taken seconds apart with no growth give a rate of 0.
	for _, f := range out.Findings {
		if f.Object == "public.flags.id" && (f.PerDay == nil || *f.PerDay != 0 || f.ExhaustsAt != nil) {
			t.Errorf("flags.id: per_day %v exhausts_at %v, want 0 and none", f.PerDay, f.ExhaustsAt)
		}
	}
}

func TestAuditSample(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, auditSchema)

	// Keep inserting into healthy while the audit samples.
	loopCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		for loopCtx.Err() == nil {
			if _, err := db.Pool.Exec(loopCtx, "SELECT nextval('healthy_id_seq')"); err != nil && loopCtx.Err() == nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	out := auditJSON(ctx, t, db, 3, "--sample", "1s")
	stop()
	if err := <-done; err != nil {
		t.Fatalf("nextval loop: %v", err)
	}
	if out.Summary.RatesFrom != "sample" {
		t.Errorf("rates_from = %q, want sample", out.Summary.RatesFrom)
	}
	for _, f := range out.Findings {
		switch f.Object {
		case "public.healthy.id":
			if f.PerDay == nil || *f.PerDay <= 0 {
				t.Errorf("healthy.id per_day = %v, want > 0", f.PerDay)
			}
		case "public.tags.id":
			if f.PerDay == nil || *f.PerDay != 0 {
				t.Errorf("tags.id per_day = %v, want 0 (no inserts)", f.PerDay)
			}
		}
	}
}

// TestAuditSampleInterrupt checks that SIGINT ends the --sample wait at
// once, with exit 1 and one line, not after the full duration.
func TestAuditSampleInterrupt(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, auditSchema)
	cmd := exec.CommandContext(ctx, pgtest.Binary(t), "--dsn", db.DSN, "--log-format", "json", "audit", "--sample", "5m")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgwiden: %v", err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "audit sampling") {
	}
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("signal pgwiden: %v", err)
	}
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	_ = cmd.Wait()
	if code, took := cmd.ProcessState.ExitCode(), time.Since(start); code != 1 || took > 10*time.Second ||
		len(rest) != 1 || !strings.Contains(rest[0], "interrupted while sampling") {
		t.Errorf("after SIGINT: exit %d after %s, stderr %q; want exit 1 at once with one line", code, took, rest)
	}
}

func TestAuditBadInput(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	closed := "postgres://u@127.0.0.1:1/x"
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		// Flags are checked before connecting: the closed port is never tried.
		{"threshold above 1", []string{"--dsn", closed, "audit", "--threshold", "2"}, 2, "--threshold 2: give a fraction"},
		{"threshold 0", []string{"--dsn", closed, "audit", "--threshold", "0"}, 2, "--threshold 0"},
		{"negative sample", []string{"--dsn", closed, "audit", "--sample", "-5s"}, 2, "--sample -5s"},
		{"unreachable server", []string{"--dsn", closed, "audit"}, 1, `connect to database "x" as user "u"`},
		{"password in URL", []string{"--dsn", "postgres://u:s3cret@127.0.0.1:1/x", "audit", "--json"}, 1, "connect to"},
		{"password in key=value", []string{"--dsn", "host=127.0.0.1 port=1 user=u password=s3cret dbname=x", "audit"}, 1, "connect to"},
	}
	for _, c := range cases {
		stdout, stderr, code := runPgwiden(ctx, t, c.args...)
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		switch {
		case code != c.code:
			t.Errorf("%s: exit %d, want %d\nstderr: %s", c.name, code, c.code, stderr)
		case len(lines) != 1 || !strings.HasPrefix(lines[0], "pgwiden: ") || !strings.Contains(lines[0], c.want):
			t.Errorf("%s: want one line \"pgwiden: ...%s...\" on stderr, got:\n%s", c.name, c.want, stderr)
		case strings.Contains(stderr, "s3cret") || strings.Contains(stdout, "s3cret"):
			t.Errorf("%s: password leaked:\n%s", c.name, stderr)
		case strings.Contains(stderr, "goroutine") || stdout != "":
			t.Errorf("%s: want no output on stdout and no trace, got stdout %q stderr %q", c.name, stdout, stderr)
		}
	}
}

// TestAuditQuotingAndPartitions reads max() through quoted names, and
// reports a partitioned table once, through its parent.
func TestAuditQuotingAndPartitions(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, `
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Weird ""Quoted"" Table" ("Id Col" int UNIQUE);
INSERT INTO "My Schema"."Weird ""Quoted"" Table" VALUES (1500000000), (7);
CREATE TABLE measures (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE measures_2025 PARTITION OF measures FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measures_2026 PARTITION OF measures FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO measures VALUES (1100000000, '2025-05-01'), (1300000000, '2026-05-01');
`)
	out := auditJSON(ctx, t, db, 3)
	got := map[string]int64{}
	for _, f := range out.Findings {
		if f.Current != nil {
			got[f.Object] = *f.Current
		}
	}
	want := map[string]int64{`My Schema.Weird "Quoted" Table.Id Col`: 1_500_000_000, "public.measures.id": 1_300_000_000}
	if len(out.Findings) != len(want) || got[`My Schema.Weird "Quoted" Table.Id Col`] != want[`My Schema.Weird "Quoted" Table.Id Col`] ||
		got["public.measures.id"] != want["public.measures.id"] {
		t.Errorf("findings %+v, want current values %v", out.Findings, want)
	}
}

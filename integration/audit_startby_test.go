package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// startBySchema has three serial keys that each grow by a million ids a
// day (recorded a day ago): a.id runs out in 20 days, b.id in 10 and c.id
// in 15. a has 1,000 rows, b and c 10: at --rate 0.001 rows/s widening a
// takes 2 x 1000 / 0.001 s, 23 days, more than it has left.
const startBySchema = `
CREATE TABLE a (id serial PRIMARY KEY);
CREATE TABLE b (id serial PRIMARY KEY);
CREATE TABLE c (id serial PRIMARY KEY);
INSERT INTO a SELECT g FROM generate_series(1, 1000) g;
INSERT INTO b SELECT g FROM generate_series(1, 10) g;
INSERT INTO c SELECT g FROM generate_series(1, 10) g;
ANALYZE a, b, c;
SELECT setval('a_id_seq', 2147483647 - 20000000), setval('b_id_seq', 2147483647 - 10000000), setval('c_id_seq', 2147483647 - 15000000);
`

// startByOutput is the part of `audit --json` these tests read.
type startByOutput struct {
	Findings []struct {
		Object     string   `json:"object"`
		ExhaustsAt *string  `json:"exhausts_at"`
		StartBy    *string  `json:"start_by"`
		Migration  *float64 `json:"migration_s"`
		Unknown    bool     `json:"unknown"`
		Above      bool     `json:"above_threshold"`
		Runway     *struct {
			Sequence string `json:"sequence"`
			Left     int64  `json:"left"`
		} `json:"runway"`
	} `json:"findings"`
	Summary struct {
		Unknown       int     `json:"unknown"`
		StartByPassed int     `json:"start_by_passed"`
		Pace          float64 `json:"pace_rows_per_s"`
		PaceFrom      string  `json:"pace_from"`
	} `json:"summary"`
}

func auditStartBy(ctx context.Context, t *testing.T, dsn string, want int, flags ...string) startByOutput {
	t.Helper()
	return auditDecode[startByOutput](ctx, t, dsn, want, flags...)
}

// recordStartByHistory records one audit, then a reading a day older a
// million ids lower for each of a, b and c.
func recordStartByHistory(ctx context.Context, t *testing.T, db *pgtest.DB) {
	t.Helper()
	auditStartBy(ctx, t, db.DSN, 0, "--record", "--threshold", "0.999")
	db.Exec(t, `INSERT INTO pgwiden.audit_history (taken_at, object, kind, value, "limit")
		SELECT now() - interval '1 day', 'public.' || t || '.id', 'column', 2147483647 - d * 1000000 - 1000000, 2147483647
		FROM (VALUES ('a', 20), ('b', 10), ('c', 15)) v(t, d)`)
}

func TestAuditStartByOrder(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, startBySchema)
	recordStartByHistory(ctx, t, db)

	// At the default pace every migration is short: exhaustion order.
	out := auditStartBy(ctx, t, db.DSN, 0, "--threshold", "0.999")
	if got := objects(out, 3); got != "public.b.id public.c.id public.a.id" {
		t.Errorf("order at the default pace = %s, want b, c, a", got)
	}
	if out.Summary.Pace != 1000 || !strings.HasPrefix(out.Summary.PaceFrom, "default") || out.Summary.StartByPassed != 0 {
		t.Errorf("summary = %+v", out.Summary)
	}

	// At 0.001 rows/s a's start-by date has passed: it comes first.
	out = auditStartBy(ctx, t, db.DSN, 0, "--threshold", "0.999", "--rate", "0.001")
	if got := objects(out, 3); got != "public.a.id public.b.id public.c.id" {
		t.Errorf("order at 0.001 rows/s = %s, want a (start-by passed), b, c", got)
	}
	a := out.Findings[0]
	if a.Migration == nil || *a.Migration != 2e6 || a.StartBy == nil || out.Summary.StartByPassed != 1 || out.Summary.PaceFrom != "--rate" ||
		out.Summary.Pace != 0.001 {
		t.Fatalf("a.id = %+v, summary %+v", a, out.Summary)
	}
	startBy, exhausts := mustTime(t, *a.StartBy), mustTime(t, *a.ExhaustsAt)
	if d := exhausts.Sub(startBy); d < 2e6*time.Second-time.Second || d > 2e6*time.Second+time.Second {
		t.Errorf("a.id start by %s, exhausts %s: %s apart, want 2e6 s", startBy, exhausts, d)
	}

	text, _, _ := runPgwiden(ctx, t, "--dsn", db.DSN, "audit", "--threshold", "0.999", "--rate", "0.001")
	for _, want := range []string{"START BY PASSED: public.a.id runs out", "widening it takes about 23.1d",
		"pgwiden runway --schema public --table a --column id --dry-run"} {
		if !strings.Contains(text, want) {
			t.Errorf("text audit lacks %q:\n%s", want, text)
		}
	}
}

// TestAuditPaceFromRecordedBackfill: without --rate, the pace is the one
// the last backfill in this database measured.
func TestAuditPaceFromRecordedBackfill(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, startBySchema+"CREATE TABLE d (id serial PRIMARY KEY, n int); INSERT INTO d (n) SELECT g FROM generate_series(1, 2000) g;")
	e := newEngine(t, db, engineConfig(), noHooks)
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "d"}, Column: "id"}
	if err := e.m.Prepare(ctx, target); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Backfill(ctx, target); err != nil {
		t.Fatal(err)
	}
	var rate float64
	err := db.Pool.QueryRow(ctx, `SELECT sum(rows_done) / sum(extract(epoch FROM updated_at - started_at))::float8
		FROM pgwiden.tasks WHERE step_id LIKE 'backfill/%' AND done`).Scan(&rate)
	if err != nil {
		t.Fatal(err)
	}
	out := auditStartBy(ctx, t, db.DSN, 0, "--threshold", "0.999")
	if !strings.HasPrefix(out.Summary.PaceFrom, "the backfill of migration 1 (public.d.id)") || out.Summary.Pace < rate*0.99 || out.Summary.Pace > rate*1.01 {
		t.Errorf("pace %.1f from %q, want %.1f from the backfill of migration 1", out.Summary.Pace, out.Summary.PaceFrom, rate)
	}
}

// TestAuditUnknownExitStatus: values a role may not read are reported as
// unknown and give exit status 6, unless something is at risk (3).
func TestAuditUnknownExitStatus(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, `
CREATE TABLE open_t (id serial PRIMARY KEY);
CREATE TABLE secret_seq_t (id serial PRIMARY KEY);
CREATE TABLE codes (code int PRIMARY KEY);
INSERT INTO codes VALUES (7);
DO $$ BEGIN CREATE ROLE pgwiden_monitor LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT SELECT ON open_t TO pgwiden_monitor;
GRANT USAGE, SELECT ON SEQUENCE open_t_id_seq TO pgwiden_monitor;
SELECT nextval('open_t_id_seq'), nextval('secret_seq_t_id_seq');
`)
	monitor := db.DSNAs("pgwiden_monitor")
	out := auditStartBy(ctx, t, monitor, 6)
	unknown := map[string]bool{}
	for _, f := range out.Findings {
		unknown[f.Object] = f.Unknown
	}
	if !unknown["public.secret_seq_t.id"] || !unknown["public.codes.code"] || unknown["public.open_t.id"] || out.Summary.Unknown != 2 {
		t.Errorf("unknown = %v, summary %+v", unknown, out.Summary)
	}
	// Something at risk wins: exit 3.
	db.Exec(t, "SELECT setval('open_t_id_seq', 2000000000)")
	auditStartBy(ctx, t, monitor, 3)
	// As the owner every value is readable: exit 0.
	db.Exec(t, "SELECT setval('open_t_id_seq', 5)")
	auditStartBy(ctx, t, db.DSN, 0)
}

// TestAuditPrometheus writes the metrics file as node_exporter's textfile
// collector reads it and parses it with the client library's own parser.
func TestAuditPrometheus(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, startBySchema)
	recordStartByHistory(ctx, t, db)
	db.Exec(t, runwaySchema)
	runRunway(ctx, t, db, 0, "orders", "--i-understand-ids-go-negative")
	db.Exec(t, "INSERT INTO orders DEFAULT VALUES; INSERT INTO orders DEFAULT VALUES")

	dir := t.TempDir()
	path := filepath.Join(dir, "pgwiden.prom")
	if err := os.WriteFile(path, []byte("stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "audit", "--format", "prometheus", "--out", path, "--rate", "0.001", "--threshold", "0.999")
	if code != 3 { // orders.id is on a runway
		t.Fatalf("audit --format prometheus: exit %d\n%s", code, stderr)
	}
	entries, _ := os.ReadDir(dir)
	st, err := os.Stat(path)
	if err != nil || len(entries) != 1 || st.Mode().Perm() != 0o644 {
		t.Fatalf("want one file %s, mode 0644 (the collector runs as another user): %v, %d entries, mode %v", path, err, len(entries), st.Mode())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		mf := families[name]
		if mf == nil {
			return 0, false
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
		return 0, false
	}
	a := map[string]string{"object": "public.a.id", "kind": "column", "type": "integer"}
	orders := map[string]string{"object": "public.orders.id", "sequence": "public.orders_id_seq"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		check  func(float64) bool
	}{
		{"pgwiden_audit_used_ratio", a, func(v float64) bool { return v > 0.99 && v < 1 }},
		{"pgwiden_audit_limit_value", a, func(v float64) bool { return v == 2147483647 }},
		{"pgwiden_audit_current_value", a, func(v float64) bool { return v == 2147483647-20e6 }},
		{"pgwiden_audit_exhaustion_seconds", a, func(v float64) bool { return v > 19.9*86400 && v < 20.1*86400 }},
		{"pgwiden_audit_start_by_seconds", a, func(v float64) bool { return v < 0 }},
		{"pgwiden_audit_migration_estimate_seconds", a, func(v float64) bool { return v == 2e6 }},
		{"pgwiden_audit_runway_info", orders, func(v float64) bool { return v == 1 }},
		{"pgwiden_audit_runway_remaining_ids", orders, func(v float64) bool { return v == 2147483646 }},
		{"pgwiden_audit_start_by_passed_findings", nil, func(v float64) bool { return v == 1 }},
		{"pgwiden_audit_pace_rows_per_second", nil, func(v float64) bool { return v == 0.001 }},
		{"pgwiden_audit_last_run_timestamp_seconds", nil, func(v float64) bool { return time.Since(time.Unix(int64(v), 0)) < time.Minute }},
	} {
		v, ok := value(c.name, c.labels)
		if !ok || !c.check(v) {
			t.Errorf("%s%v = %v (present %v)", c.name, c.labels, v, ok)
		}
	}
	// The runway has no recorded growth: no exhaustion date, and certainly
	// not "exhausted" (its limit, -1, is negative but it counts up).
	if v, ok := value("pgwiden_audit_exhaustion_seconds", map[string]string{"object": "public.orders.id"}); ok {
		t.Errorf("public.orders.id exhaustion_seconds = %v, want none", v)
	}
	for name, mf := range families {
		if mf.GetType().String() != "GAUGE" || !strings.HasPrefix(name, "pgwiden_audit_") {
			t.Errorf("metric %s: type %s", name, mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			if _, ok := value(name, map[string]string{"database": db.Name}); !ok || len(m.GetLabel()) == 0 {
				t.Errorf("metric %s lacks the database label", name)
			}
		}
	}

	// The JSON report shows the same runway, and counts it as at risk.
	for _, f := range auditStartBy(ctx, t, db.DSN, 3, "--threshold", "0.999").Findings {
		if f.Object == "public.orders.id" && (f.Runway == nil || f.Runway.Sequence != "public.orders_id_seq" || f.Runway.Left != 2147483646 || !f.Above) {
			t.Errorf("orders.id in --json: %+v (runway %+v)", f, f.Runway)
		}
	}

	// Without --out the same metrics go to stdout.
	stdout, _, _ := runPgwiden(ctx, t, "--dsn", db.DSN, "audit", "--format", "prometheus")
	if fams, err := parser.TextToMetricFamilies(strings.NewReader(stdout)); err != nil || fams["pgwiden_audit_runway_info"] == nil {
		t.Errorf("stdout metrics: %v\n%s", err, stdout)
	}
	_, stderr, code = runPgwiden(ctx, t, "--dsn", db.DSN, "audit", "--out", path)
	if code != 2 || !strings.Contains(stderr, "--out is for --format prometheus") {
		t.Errorf("--out without --format prometheus: exit %d, %s", code, stderr)
	}
}

func objects(out startByOutput, n int) string {
	var names []string
	for _, f := range out.Findings[:min(n, len(out.Findings))] {
		names = append(names, f.Object)
	}
	return strings.Join(names, " ")
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

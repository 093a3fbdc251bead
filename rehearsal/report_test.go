package rehearsal

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sampleReport is a small report with every section filled.
func sampleReport() *Report {
	wal := int64(3 << 20)
	start := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	return &Report{
		FormatVersion: FormatVersion, Target: "public.tags.id", Database: "shop_staging", ServerVersion: 150018,
		StartedAt: start, FinishedAt: start.Add(90 * time.Second), Passed: true,
		StagingCheck: "SELECT true returned true on database \"shop_staging\"",
		Settings:     Settings{BatchSize: 1000, LockTimeout: "2s", ScanLockTimeout: "5m0s", StatementTimeout: "1m0s", SwapAttempts: 30},
		Phases: []PhaseResult{
			{Name: "prepare", Seconds: 0.05, OK: true, WALBytes: &wal, TotalBytes: 1 << 20, Sizes: []TableSize{{Table: "public.tags", TableBytes: 1 << 19, Size: Size{IndexBytes: 1 << 19}}}},
			{Name: "backfill", Seconds: 12.5, OK: true, WALBytes: &wal, TotalBytes: 2 << 20, Sizes: []TableSize{{Table: "public.tags", TableBytes: 3 << 19, Size: Size{IndexBytes: 1 << 19}}}},
		},
		Backfill: WalkSummary{Rows: 1234567, Copied: 1234567, Seconds: 12.5, RowsPerS: 98765.4,
			Tables: []WalkTable{{Table: "public.tags", Rows: 1234567, Copied: 1234567, Batches: 1235, Seconds: 12.4, RowsPerS: 99561}}},
		Verification: Verification{Passed: true, Detail: "passed: every shadow value equals its column"},
		Locks: Locks{Swap: &Swap{Attempts: 2, HeldMS: 8.5},
			Steps:   []StepTiming{{Phase: "prepare", Step: "prepare/add-shadow/public.tags", Lock: "ACCESS EXCLUSIVE", TookMS: 1.2}},
			Longest: []StepTiming{{Phase: "prepare", Step: "prepare/add-shadow/public.tags", Lock: "ACCESS EXCLUSIVE", TookMS: 1.2}}},
		Disk:        Disk{Before: []TableSize{{Table: "public.tags", TableBytes: 1 << 19, Size: Size{IndexBytes: 1 << 19}}}, BeforeBytes: 1 << 20, PeakBytes: 2 << 20, PeakAfter: "backfill", ExtraBytes: 1 << 20},
		WALBytes:    &wal,
		Warnings:    []Warning{{Phase: "cutover", Source: "log", Level: "warn", Message: "retry", Detail: "attempt=1 sqlstate=55P03"}},
		SchemaCheck: &SchemaCheck{Method: "pg_dump", Tool: "/usr/bin/pg_dump", Checked: true, Identical: true, Objects: []string{"public.tags"}},
		PlanText:    "pgwiden plan: widen public.tags.id to bigint\n\nWarnings: none\n\n== PREPARE ==\n\n1. prepare/add-shadow ...\n",
	}
}

// TestWriteMarkdown: the sections a change review reads are there, and
// the plan's SQL is left to the JSON report.
func TestRehearseWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"# pgwiden rehearsal: widen public.tags.id to bigint\n",
		"**Result: passed.** Every phase ran, the verification passed, then the rollback left the schema as it was.",
		"| Database | `shop_staging`, PostgreSQL 15.18 |",
		"| prepare | 50ms | 3072 kB | 1024 kB | ok |",
		"| backfill | 12.5s | 3072 kB | 2048 kB | ok |",
		"1,234,567 rows walked, 1,234,567 copied in 12.5s: **98,765 rows/s** over the phase.",
		"- **The swap**: 2 attempt(s); its transaction (ACCESS EXCLUSIVE on every table and view of the closure) lasted 8.5ms.",
		"| public.tags | 512 kB + 512 kB | 512 kB + 512 kB | 1536 kB + 512 kB |",
		"- [cutover, log] retry: attempt=1 sqlstate=55P03",
		"**Identical** to the schema before prepare (`pg_dump --schema-only` of the objects below, /usr/bin/pg_dump).",
		"None: pass --production-dsn (read-only catalog statistics) or --production-rows.",
		"pgwiden plan: widen public.tags.id to bigint\n\nWarnings: none\n```",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "== PREPARE ==") {
		t.Error("markdown holds the plan's SQL; it belongs in the JSON report")
	}
}

// TestWriteJSON: the report round-trips and keeps its documented keys.
func TestRehearseWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format_version", "target", "passed", "problems", "phases", "backfill", "verification", "locks", "disk",
		"wal_bytes", "warnings", "schema_check", "plan", "plan_text", "staging_check", "final_phase", "kept"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	phase := m["phases"].([]any)[0].(map[string]any)
	size := phase["sizes_after"].([]any)[0].(map[string]any)
	for _, k := range []string{"table", "table_bytes", "index_bytes", "total_bytes", "rows", "found"} {
		if _, ok := size[k]; !ok {
			t.Errorf("sizes_after entry lacks %q: %v", k, size)
		}
	}
}

// TestFormats checks the formats the report uses: internal/format's
// figures, from the report's seconds and milliseconds.
func TestRehearseFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{secs(0.0042), "4.2ms"}, {secs(0.25), "250ms"}, {secs(75), "1m15s"}, {secs(3725), "1h2m5s"}, {secs(9000), "2h30m"},
		{msText(8.5), "8.5ms"}, {optBytes(nil), "n/a"},
		{serverVersion(150018), "15.18"}, {serverVersion(90624), "9.6.24"},
		{factor(2.5), "2.50x"}, {factor(100), "100x"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

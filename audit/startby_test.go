package audit

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// rowsTable is a table with a serial int4 key and rows rows.
func rowsTable(name string, rows float64) catalog.Table {
	return catalog.Table{Name: qn(name), Kind: "table", Owned: true, RowEstimate: rows, ReplicaIdentity: "d",
		Columns:     []catalog.Column{{Name: "id", Type: "integer", NotNull: true, Sequence: ptr(qn(name + "_id_seq"))}},
		Constraints: []catalog.Constraint{pk(name, "id")}, Indexes: []catalog.Index{pkIndex(name, "id")}}
}

// exhausting is a finding on table.id that runs out in days.
func exhausting(table string, days float64) Finding {
	at := day(days)
	return Finding{Object: "public." + table + ".id", Kind: KindColumn, Type: "integer", Sequence: "public." + table + "_id_seq",
		Limit: math.MaxInt32, Current: ptr[int64](2e9), ExhaustsAt: &at, target: &planner.Target{Table: qn(table), Column: "id"}}
}

func TestApplyStartBy(t *testing.T) {
	snap := &catalog.Snapshot{Tables: []catalog.Table{rowsTable("big", 10e6), rowsTable("small", 1000), rowsTable("huge", 1e9)}}
	fs := []Finding{exhausting("big", 30), exhausting("small", 10), exhausting("huge", 20),
		{Object: "public.counter_seq", Kind: KindSequence, Type: "integer", Limit: math.MaxInt32, Current: ptr[int64](2e9), ExhaustsAt: ptr(day(40))}}
	ApplyStartBy(fs, snap, Pace{RowsPerSecond: 1000, From: "--rate"})
	Sort(fs)
	var order []string
	for _, f := range fs {
		order = append(order, f.Object)
	}
	// huge needs 2e6 s (23 days) and runs out in 20: its start-by has
	// passed and it comes first, although small runs out sooner.
	want := "public.huge.id public.small.id public.big.id public.counter_seq"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("order = %s, want %s", got, want)
	}
	if s := *fs[2].MigrationSeconds; s != 20000 {
		t.Errorf("big's migration = %vs, want 2 x 10e6 rows / 1000 rows/s = 20000", s)
	}
	if got, want := *fs[2].StartBy, day(30).Add(-20000*time.Second); !got.Equal(want) {
		t.Errorf("big's start by = %s, want %s", got, want)
	}
	if s := *fs[3].MigrationSeconds; s != 0 || !fs[3].StartBy.Equal(*fs[3].ExhaustsAt) {
		t.Errorf("a standalone sequence needs no migration time: %v, start by %v", s, fs[3].StartBy)
	}

	rep := &Report{Database: "app", TakenAt: now, Threshold: DefaultThreshold, Findings: fs, Pace: Pace{RowsPerSecond: 1000, From: "--rate"}}
	if rep.StartByPassed() != 1 || !fs[0].StartByPassed(now) {
		t.Fatalf("start by passed = %d", rep.StartByPassed())
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PASSED", "START BY PASSED: public.huge.id runs out 2026-03-08 (20d); widening it takes about 23.1d.",
		"pgwiden runway --schema public --table huge --column id --dry-run", "at 1000 rows/s: --rate"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestPaceFromTasks(t *testing.T) {
	at := func(s float64) *time.Time { x := now.Add(time.Duration(s * float64(time.Second))); return &x }
	tasks := []state.Task{
		{StepID: "backfill/copy/public.a", RowsDone: 60_000, Done: true, StartedAt: at(0), UpdatedAt: at(20)},
		{StepID: "backfill/copy/public.b", RowsDone: 40_000, Done: true, StartedAt: at(20), UpdatedAt: at(50)},
		{StepID: "cutover/verify/public.a", RowsDone: 60_000, Done: true, StartedAt: at(60), UpdatedAt: at(61)}, // not a copy
		{StepID: "backfill/copy/public.c", RowsDone: 5, Done: false, StartedAt: at(50), UpdatedAt: at(51)},      // unfinished
	}
	if got, ok := PaceFromTasks(tasks); !ok || got != 2000 {
		t.Errorf("pace = %v, %v; want 100000 rows / 50 s = 2000", got, ok)
	}
	if _, ok := PaceFromTasks(tasks[2:]); ok {
		t.Error("no finished backfill: no pace")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"orders": "orders", "Weird Table": `'Weird Table'`, "it's": `'it'\''s'`} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

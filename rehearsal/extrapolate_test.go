package rehearsal

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/planner"
)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestExtrapolateScales: rows-bound work grows with each table's rows,
// index builds with its index size, catalog work and the unaccounted part
// of a phase stay as measured.
func TestRehearseExtrapolateScales(t *testing.T) {
	in := Input{
		Source: "test",
		Tables: []string{"public.tags", "public.events"},
		Phases: []PhaseTime{{"prepare", sec(0.5)}, {"backfill", sec(10)}, {"cutover", sec(6)}},
		Work: []Work{
			{Phase: "prepare", Step: "prepare/add-shadow/public.tags", Table: "public.tags", Kind: Fixed, Took: sec(0.1)},
			{Phase: "backfill", Step: "backfill/copy/public.tags", Table: "public.tags", Kind: ByRows, Took: sec(2)},
			{Phase: "backfill", Step: "backfill/copy/public.events_2025", Table: "public.events", Kind: ByRows, Took: sec(3)},
			{Phase: "backfill", Step: "backfill/copy/public.events_2026", Table: "public.events", Kind: ByRows, Took: sec(4)},
			{Phase: "cutover", Step: "cutover/verify/public.tags", Table: "public.tags", Kind: ByRows, Took: sec(1)},
			{Phase: "cutover", Step: "cutover/index/public.tags_pkey_pgwiden_new", Table: "public.tags", Kind: ByIndex, Took: sec(2)},
			{Phase: "cutover", Step: "cutover/swap", Kind: Fixed, Took: sec(0.05)},
		},
		Staging: map[string]Size{
			"public.tags":   {Found: true, RowsKnown: true, Rows: 1000, IndexBytes: 100, TotalBytes: 1000},
			"public.events": {Found: true, RowsKnown: true, Rows: 2000, IndexBytes: 200, TotalBytes: 3000},
		},
		Production: map[string]Size{
			"public.tags":   {Found: true, RowsKnown: true, Rows: 10000, IndexBytes: 400, TotalBytes: 10000},
			"public.events": {Found: true, RowsKnown: true, Rows: 200000, IndexBytes: 20000, TotalBytes: 30000},
		},
		ExtraDiskBytes: 500,
		WALBytes:       2000,
	}
	x := Extrapolate(in)
	if len(x.Phases) != 3 || len(x.Tables) != 2 {
		t.Fatalf("phases %d tables %d, want 3 and 2", len(x.Phases), len(x.Tables))
	}
	if x.Tables[0].Table != "public.tags" || x.Tables[1].RowFactor != 100 {
		t.Errorf("tables %+v, want tags first (as given), events x100", x.Tables)
	}
	// prepare: nothing scales.
	near(t, "prepare", x.Phases[0].ProductionSeconds, 0.5)
	near(t, "prepare fixed part", x.Phases[0].FixedSeconds, 0.4)
	// backfill: tags x10, events x100, 1s unaccounted.
	near(t, "backfill", x.Phases[1].ProductionSeconds, 2*10+3*100+4*100+1)
	// cutover: verify x10 rows, index x4 index bytes, swap fixed, 2.95s unaccounted.
	near(t, "cutover", x.Phases[2].ProductionSeconds, 1*10+2*4+0.05+2.95)
	near(t, "total staging", x.StagingSeconds, 16.5)
	near(t, "total production", x.ProductionSeconds, 0.5+721+21)
	near(t, "bytes factor", x.BytesFactor, 10)
	if x.ExtraDiskBytes != 5000 || x.WALBytes != 20000 {
		t.Errorf("extra disk %d WAL %d, want 5000 and 20000", x.ExtraDiskBytes, x.WALBytes)
	}
	if len(x.Assumptions) != len(baseAssumptions("test")) {
		t.Errorf("assumptions: %q, want only the base ones", x.Assumptions)
	}
}

// TestExtrapolateUnknowns: a table missing on production, one never
// analyzed there and one empty on staging keep their measured times, and
// each says why.
func TestRehearseExtrapolateUnknowns(t *testing.T) {
	in := Input{
		Source: "test",
		Phases: []PhaseTime{{"backfill", sec(6)}},
		Work: []Work{
			{Phase: "backfill", Step: "a", Table: "public.gone", Kind: ByRows, Took: sec(1)},
			{Phase: "backfill", Step: "b", Table: "public.fresh", Kind: ByRows, Took: sec(2)},
			{Phase: "backfill", Step: "c", Table: "public.empty", Kind: ByRows, Took: sec(3)},
		},
		Staging: map[string]Size{
			"public.gone":  {Found: true, RowsKnown: true, Rows: 10, TotalBytes: 10},
			"public.fresh": {Found: true, RowsKnown: true, Rows: 10, TotalBytes: 10},
			"public.empty": {Found: true, RowsKnown: true, Rows: 0, TotalBytes: 10},
		},
		Production: map[string]Size{
			"public.fresh": {Found: true, RowsKnown: false, TotalBytes: 20},
			"public.empty": {Found: true, RowsKnown: true, Rows: 50, TotalBytes: 20},
		},
	}
	x := Extrapolate(in)
	near(t, "backfill", x.Phases[0].ProductionSeconds, 6)
	all := strings.Join(x.Assumptions, "\n")
	for _, want := range []string{"public.gone is not on production", "public.fresh has never been analyzed", "public.empty rows is 0 on staging"} {
		if !strings.Contains(all, want) {
			t.Errorf("assumptions lack %q:\n%s", want, all)
		}
	}
	// Bytes: only the tables found on both count: (20+20)/(10+10).
	near(t, "bytes factor", x.BytesFactor, 2)
}

// TestScaleRows: --production-rows scales every table by the target's
// factor, and refuses an empty target.
func TestRehearseScaleRows(t *testing.T) {
	staging := map[string]Size{
		"public.tags":     {Found: true, RowsKnown: true, Rows: 1000, IndexBytes: 8192, TotalBytes: 65536},
		"public.taggings": {Found: true, RowsKnown: true, Rows: 5000, IndexBytes: 16384, TotalBytes: 262144},
	}
	prod, err := ScaleRows(staging, "public.tags", 1e6)
	if err != nil {
		t.Fatal(err)
	}
	if got := prod["public.taggings"]; got.Rows != 5e6 || got.IndexBytes != 16384000 || got.TotalBytes != 262144000 || !got.Found || !got.RowsKnown {
		t.Errorf("taggings scaled to %+v", got)
	}
	if got := prod["public.tags"]; got.Rows != 1e6 {
		t.Errorf("tags scaled to %v rows, want 1e6", got.Rows)
	}
	if _, err := ScaleRows(map[string]Size{"public.tags": {Found: true}}, "public.tags", 10); err == nil {
		t.Error("ScaleRows from an empty target: no error")
	}
	x := Extrapolate(Input{Source: "rows", Phases: []PhaseTime{{"backfill", sec(3)}},
		Work:    []Work{{Phase: "backfill", Table: "public.taggings", Kind: ByRows, Took: sec(3)}},
		Staging: staging, Production: prod})
	near(t, "backfill scaled x1000", x.Phases[0].ProductionSeconds, 3000)
}

// TestKindOf classifies the planner's steps.
func TestRehearseKindOf(t *testing.T) {
	cases := []struct {
		step planner.Step
		want Kind
	}{
		{planner.Step{Batch: &planner.Batch{}}, ByRows},
		{planner.Step{SQL: `ALTER TABLE "public"."t" VALIDATE CONSTRAINT "c"`, Lock: planner.ShareUpdateExclusive}, ByRows},
		{planner.Step{SQL: `CREATE UNIQUE INDEX CONCURRENTLY "i" ON "public"."t" USING btree ("id_pgwiden_new")`, Lock: planner.ShareUpdateExclusive}, ByIndex},
		{planner.Step{SQL: `DROP INDEX CONCURRENTLY IF EXISTS "public"."i"`, Lock: planner.ShareUpdateExclusive}, Fixed},
		{planner.Step{SQL: `ALTER TABLE "public"."t" ADD COLUMN "x" bigint`, Lock: planner.AccessExclusive}, Fixed},
	}
	for _, c := range cases {
		if got := KindOf(c.step); got != c.want {
			t.Errorf("KindOf(%q) = %s, want %s", c.step.SQL, got, c.want)
		}
	}
}

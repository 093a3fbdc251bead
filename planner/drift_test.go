package planner

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/pgwiden/pgwiden/catalog"
)

// loadScenario reads a golden scenario's catalog and target.
func loadScenario(t *testing.T, name string) (*catalog.Snapshot, Target) {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var snap catalog.Snapshot
	var target Target
	mustJSON(t, section(t, ar, "catalog.json"), &snap)
	mustJSON(t, section(t, ar, "target"), &target)
	return &snap, target
}

// TestRecordPlansAlike checks that the trimmed catalog prepare records
// plans exactly the steps the whole catalog does: a re-plan starts from it.
func TestRecordPlansAlike(t *testing.T) {
	for _, name := range []string{"fk-chain-3-levels", "composite-fk", "partitioned-target", "partitioned-child", "weird-names", "blockers"} {
		t.Run(name, func(t *testing.T) {
			snap, target := loadScenario(t, name)
			p, err := Build(snap, target)
			if err != nil {
				t.Fatal(err)
			}
			rec := Record(snap, p)
			if len(rec.Tables) > len(snap.Tables) {
				t.Fatalf("record has %d tables, catalog %d", len(rec.Tables), len(snap.Tables))
			}
			p2, err := Build(rec, target)
			if err != nil {
				t.Fatal(err)
			}
			if ch := StepChanges(p, p2); len(ch) > 0 {
				t.Errorf("the recorded catalog plans other steps: %v", ch)
			}
			if !slices.Equal(closureNames(p), closureNames(p2)) {
				t.Errorf("closure %v, from the record %v", closureNames(p), closureNames(p2))
			}
		})
	}
}

// prepared returns a copy of snap as it looks after prepare: shadow
// columns and sync triggers on every closure table.
func prepared(snap *catalog.Snapshot, p *Plan) *catalog.Snapshot {
	live := snap.Clone()
	for _, tc := range p.Tables {
		lt := live.Table(tc.Table)
		for _, c := range tc.Columns {
			lt.Columns = append(lt.Columns, catalog.Column{Name: c.Shadow, Num: 100, Type: "bigint"})
		}
		lt.Triggers = append(lt.Triggers, catalog.Trigger{Name: SyncTrigger, Def: "CREATE TRIGGER zz_pgwiden_sync ...", Enabled: "A"})
	}
	return live
}

func driftOf(t *testing.T, name string, change func(live *catalog.Snapshot)) ([]DriftChange, *Plan, *catalog.Snapshot, *catalog.Snapshot) {
	t.Helper()
	snap, target := loadScenario(t, name)
	p, err := Build(snap, target)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record(snap, p)
	live := prepared(snap, p)
	change(live)
	return Drift(DriftCheck{Plan: p, Recorded: rec, Live: live}), p, rec, live
}

func TestDriftNoneAfterPrepare(t *testing.T) {
	got, _, _, _ := driftOf(t, "fk-chain-3-levels", func(*catalog.Snapshot) {})
	if len(got) > 0 {
		t.Errorf("drift right after prepare: %v", got)
	}
}

// TestDriftCarriesNewIndex: an index added on a closure column is carried,
// and the re-plan builds it on the new column and swaps it.
func TestDriftCarriesNewIndex(t *testing.T) {
	got, p, rec, live := driftOf(t, "fk-chain-3-levels", func(live *catalog.Snapshot) {
		lt := live.Table(catalog.QName{Schema: "public", Name: "tag_stat_snapshots"})
		lt.Indexes = append(lt.Indexes, catalog.Index{Name: "snap_tag_idx", Def: "CREATE INDEX snap_tag_idx ON public.tag_stat_snapshots USING btree (tag_id)",
			Columns: []string{"tag_id"}, Valid: true, Method: "btree"})
	})
	if len(got) != 1 || got[0].Kind != DriftCarry || !strings.Contains(got[0].String(), `index "snap_tag_idx" on public.tag_stat_snapshots: added on "tag_id"`) {
		t.Fatalf("drift = %v", got)
	}
	np, nrec, err := Replan(rec, live, p)
	if err != nil {
		t.Fatal(err)
	}
	changes := StepChanges(p, np)
	if !slices.Contains(changes, "+ cutover/index/public.snap_tag_idx_pgwiden_new") || !slices.Contains(changes, "~ cutover/swap") {
		t.Errorf("step changes = %v", changes)
	}
	if again := Drift(DriftCheck{Plan: np, Recorded: nrec, Live: live}); len(again) > 0 {
		t.Errorf("drift after recording the re-plan: %v", again)
	}
}

func TestDriftRefuses(t *testing.T) {
	snapshots := catalog.QName{Schema: "public", Name: "tag_stat_snapshots"}
	cases := []struct {
		name   string
		change func(live *catalog.Snapshot)
		want   string
	}{
		{"renamed column", func(live *catalog.Snapshot) { live.Table(snapshots).Column("tag_id").Name = "tag" },
			"column public.tag_stat_snapshots.tag_id: renamed or dropped since prepare; fix: rename it back"},
		{"retyped column", func(live *catalog.Snapshot) { live.Table(snapshots).Column("tag_id").Type = "bigint" },
			"retyped from integer to bigint"},
		{"shadow dropped", func(live *catalog.Snapshot) {
			lt := live.Table(snapshots)
			lt.Columns = slices.DeleteFunc(lt.Columns, func(c catalog.Column) bool { return c.Name == "tag_id_pgwiden_new" })
		}, "shadow column public.tag_stat_snapshots.tag_id_pgwiden_new: dropped by hand"},
		{"trigger dropped", func(live *catalog.Snapshot) { live.Table(snapshots).Triggers = nil },
			"trigger zz_pgwiden_sync on public.tag_stat_snapshots: dropped by hand"},
		{"partition attached", func(live *catalog.Snapshot) {
			lt := live.Table(snapshots)
			lt.Partitions = append(lt.Partitions, catalog.QName{Schema: "public", Name: "p1"})
		}, "partition public.p1: attached to public.tag_stat_snapshots since prepare"},
		{"new narrow FK in", func(live *catalog.Snapshot) {
			live.Tables = append(live.Tables, catalog.Table{Name: catalog.QName{Schema: "public", Name: "new kid"},
				Columns: []catalog.Column{{Name: "tag_id", Num: 1, Type: "integer"}},
				Constraints: []catalog.Constraint{{Name: "kid_fk", Type: catalog.ConForeign, Columns: []string{"tag_id"},
					RefTable: &catalog.QName{Schema: "public", Name: "tags"}, RefColumns: []string{"id"}}}})
		}, "pgwiden plan --schema public --table 'new kid' --column tag_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, _, _ := driftOf(t, "fk-chain-3-levels", c.change)
			ref := Refusals(got)
			if len(ref) == 0 || !strings.Contains(ref[0].String(), c.want) {
				t.Errorf("refusals = %v, want one with %q", ref, c.want)
			}
		})
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{"tags": "tags", "Weird \"Quoted\" Table": `'Weird "Quoted" Table'`, "it's": `'it'\''s'`} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

package planner

import (
	"slices"
	"strings"
	"testing"
)

// TestPhaseNeeds: prepare on the partitioned fixture needs a writable
// server, CREATE for pgwiden's schema, and the ownership of every table it
// alters, each partition included, and of every sequence it widens; the
// backfill needs only SELECT and UPDATE on the leaves it walks.
func TestPhaseNeeds(t *testing.T) {
	_, snap, target := fixture(t, "testdata/partitioned-target.txtar")
	p, err := Build(snap, target)
	if err != nil {
		t.Fatal(err)
	}
	whats := func(ph Phase) []string {
		var out []string
		for _, n := range p.PhaseNeeds(p.PhaseSteps(ph)) {
			out = append(out, n.What)
		}
		return out
	}
	prepare := whats(Prepare)
	want := []string{"a server that accepts writes (not a standby, not read-only)", "CREATE on schema pgwiden (on the database while it does not exist)"}
	for _, tc := range p.Tables {
		want = append(want, "ownership of table "+tc.Table.String())
		for _, l := range tc.Leaves {
			want = append(want, "ownership of table "+l.String())
		}
	}
	for _, sc := range p.Sequences {
		want = append(want, "ownership of sequence "+sc.Sequence.String())
	}
	for _, w := range want {
		if !slices.Contains(prepare, w) {
			t.Errorf("prepare needs %q, not in %q", w, prepare)
		}
	}
	t.Logf("prepare needs %q", prepare)
	if len(prepare) != len(want) {
		t.Errorf("prepare needs %d things, want %d:\n%q", len(prepare), len(want), prepare)
	}
	backfill := whats(Backfill)
	if len(backfill) < 2 {
		t.Fatalf("backfill needs %q, want a writable server and rights on the leaves", backfill)
	}
	for _, w := range backfill[1:] {
		if !strings.HasPrefix(w, "SELECT and UPDATE on table ") {
			t.Errorf("backfill needs %q, want only SELECT and UPDATE on tables", w)
		}
	}
}

package planner

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
)

// TestRetiredIndexesMatchSwap: on a partition tree two levels deep (keyless:
// pgwiden blocks key constraints of sub-partitioned tables), with an
// index declared on a leaf partition alone, every index the swap renames
// *_pgwiden_old is one the cleanup's dependents check takes for pgwiden's
// own, and the cleanup drops concurrently exactly those not part of a
// partitioned index's tree.
func TestRetiredIndexesMatchSwap(t *testing.T) {
	q := func(n string) catalog.QName { return catalog.QName{Schema: "public", Name: n} }
	qp := func(n string) *catalog.QName { x := q(n); return &x }
	cols := []catalog.Column{{Name: "id", Num: 1, Type: "integer", NotNull: true}, {Name: "d", Num: 2, Type: "date", NotNull: true}}
	plain := func(table, name string, parent *catalog.QName) catalog.Index {
		return catalog.Index{Name: name, Def: "CREATE INDEX " + name + " ON public." + table + " USING btree (id)", Columns: []string{"id"}, Valid: true, Method: "btree", ParentIndex: parent}
	}
	table := func(name, kind string, parent *catalog.QName, parts []catalog.QName, ixs ...catalog.Index) catalog.Table {
		return catalog.Table{Name: q(name), Kind: kind, Owner: "o", Owned: true, Columns: cols, PartitionOf: parent, Partitions: parts, Indexes: ixs}
	}
	snap := &catalog.Snapshot{ServerVersion: 150000, CurrentUser: "o", Superuser: true, Tables: []catalog.Table{
		table("ev", "partitioned", nil, []catalog.QName{q("ev_2022"), q("ev_2023")}, plain("ev", "ev_id_idx", nil)),
		table("ev_2022", "partitioned", qp("ev"), []catalog.QName{q("ev_2022_01")}, plain("ev_2022", "ev_2022_id_idx", qp("ev_id_idx"))),
		table("ev_2022_01", "table", qp("ev_2022"), nil, plain("ev_2022_01", "ev_2022_01_id_idx", qp("ev_2022_id_idx"))),
		table("ev_2023", "table", qp("ev"), nil, plain("ev_2023", "ev_2023_id_idx", qp("ev_id_idx")), plain("ev_2023", "ev_2023_own_idx", nil)),
	}}
	p, err := Build(snap, Target{Table: q("ev"), Column: "id"})
	if err != nil {
		t.Fatal(err)
	}
	var swap, check string
	var drops []string
	for _, s := range p.Steps {
		switch {
		case s.ID == "cutover/swap":
			swap = s.SQL
		case s.ID == CheckDependentsID:
			check = s.SQL
		case strings.HasPrefix(s.ID, "cleanup/drop-index/"):
			drops = append(drops, strings.TrimPrefix(s.ID, "cleanup/drop-index/"))
		}
	}
	var retired []string
	for _, m := range regexp.MustCompile(`RENAME TO "([^"]*_pgwiden_old)"`).FindAllStringSubmatch(swap, -1) {
		retired = append(retired, m[1])
	}
	slices.Sort(retired)
	if want := []string{"ev_2022_01_id_idx_pgwiden_old", "ev_2022_id_idx_pgwiden_old", "ev_2023_id_idx_pgwiden_old", "ev_2023_own_idx_pgwiden_old", "ev_id_idx_pgwiden_old"}; !slices.Equal(retired, want) {
		t.Fatalf("the swap retires %v, want %v:\n%s\n%+v", retired, want, swap, p.Blockers)
	}
	for _, name := range retired {
		if !strings.Contains(check, `to_regclass('"public"."`+name+`"')`) {
			t.Errorf("the dependents check would refuse %s, which the swap retired:\n%s", name, check)
		}
	}
	if want := []string{"public.ev_2023_own_idx_pgwiden_old"}; !slices.Equal(drops, want) {
		t.Errorf("cleanup drops %v concurrently, want %v (the tree under ev_id_idx goes with DROP COLUMN)", drops, want)
	}
}

package integration

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// TestPlanBlocksGeneratedColumns: a generated column computed from the key
// blocks the plan, stored on every version and, from PostgreSQL 18 on,
// virtual too: the catalog records both kinds' dependency the same way.
func TestPlanBlocksGeneratedColumns(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	gens := []string{"doubled"}
	sql := `CREATE TABLE t (id int PRIMARY KEY, doubled bigint GENERATED ALWAYS AS (id * 2) STORED`
	if pgtest.Version() >= 180000 {
		gens = append(gens, "tripled")
		sql += `, tripled bigint GENERATED ALWAYS AS (id * 3) VIRTUAL`
	}
	db.Exec(t, sql+")")
	p, err := planner.Build(mustLoad(t, ctx, db.Pool), planner.Target{Table: catalog.QName{Schema: "public", Name: "t"}, Column: "id"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range p.Blockers {
		got = append(got, b.Code+" "+b.Detail)
	}
	for _, g := range gens {
		want := fmt.Sprintf("generated-dep generated column %q is computed from it; its expression cannot be moved to the new column without a table rewrite", g)
		if !slices.Contains(got, want) {
			t.Errorf("no blocker for generated column %s; blockers: %q", g, got)
		}
	}
}

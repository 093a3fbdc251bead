package integration

import (
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// TestPlanWarnsPartitionNotNullName: a table attached as a partition keeps
// its own NOT NULL constraint name (PostgreSQL 18), which the migration
// cannot carry over (the new column's constraint is inherited from the
// parent, under the parent's name): plan says so. Before 18 NOT NULL has
// no name and there is nothing to warn about.
func TestPlanWarnsPartitionNotNullName(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, `CREATE TABLE tags (id int PRIMARY KEY);
CREATE TABLE events (id int NOT NULL, created_at date NOT NULL, tag_id int NOT NULL REFERENCES tags (id), PRIMARY KEY (id, created_at))
  PARTITION BY RANGE (created_at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_old (id int NOT NULL, created_at date NOT NULL, tag_id int CONSTRAINT old_tag_nn NOT NULL, PRIMARY KEY (id, created_at));
ALTER TABLE events ATTACH PARTITION events_old FOR VALUES FROM ('2020-01-01') TO ('2025-01-01');`)
	p, err := planner.Build(mustLoad(t, ctx, db.Pool), planner.Target{Table: catalog.QName{Schema: "public", Name: "tags"}, Column: "id"})
	if err != nil {
		t.Fatal(err)
	}
	var warned []planner.Finding
	for _, w := range p.Warnings {
		if w.Code == "not-null-name" {
			warned = append(warned, w)
		}
	}
	want := `the partition's NOT NULL constraint is named "old_tag_nn", its parent's "events_tag_id_not_null": after the cutover the partition's constraint has the parent's name`
	switch {
	case pgtest.Version() < 180000 && len(warned) > 0:
		t.Errorf("not-null-name warnings before PostgreSQL 18: %+v", warned)
	case pgtest.Version() >= 180000 && (len(warned) != 1 || warned[0].Object != "public.events_old.tag_id" || warned[0].Detail != want):
		t.Errorf("not-null-name warnings = %+v, want one on public.events_old.tag_id: %s", warned, want)
	}
}

package integration

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/state"
)

// TestPartitionCreatedAfterPrepare creates a partition of a closure table
// between prepare and cutover and writes rows into it, as a job creating
// next month's partition would. The backfill and the verification walk the
// partitions recorded at prepare, and on PostgreSQL 12 the new one has no
// sync trigger: on every version the cutover refuses before any change,
// naming the partition (schema drift), and a rollback restores the schema.
func TestPartitionCreatedAfterPrepare(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare")
	db.Exec(t, `CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO events (created_at, tag_id) SELECT date '2027-02-01' + ("Id" % 300)::int, "Id" FROM "Tags" ORDER BY "Id" LIMIT 40;`)
	e.run(t, ctx, "backfill")
	refused := schemaDump(t, db)
	err := e.phase(ctx, "cutover")
	want := "partition public.events_2027: attached to public.events since prepare"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("cutover with a partition created after prepare: err = %v, want %q", err, want)
	}
	if after := schemaDump(t, db); after != refused {
		t.Errorf("the refused cutover changed the schema:\n%s", firstDiff(refused, after))
	}
	e.run(t, ctx, "rollback")
	e.wantPhase(t, ctx, state.PhaseRolledBack)
	db.Exec(t, `DROP TABLE events_2027`)
	if after := schemaDump(t, db); after != before {
		t.Errorf("schema after rollback differs from before prepare:\n%s", firstDiff(before, after))
	}
}

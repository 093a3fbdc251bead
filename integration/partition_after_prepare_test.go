package integration

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/state"
)

// TestPartitionCreatedAfterPrepare creates a partition of a closure table
// between prepare and cutover and writes rows into it, as a job creating
// next month's partition would.
//
// PostgreSQL 13+ clones the sync trigger onto the new partition, so its
// rows carry their bigint copy and the migration completes with the keys
// intact. PostgreSQL 12 has the trigger on each partition that existed at
// prepare only: the cutover must refuse, naming the partition, change
// nothing, and leave a rollback that restores the schema.
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
	events := `SELECT format('%s %s', created_at, tag_id) FROM events_2027 ORDER BY id`
	rows := readRows(t, ctx, db.Pool, events)

	err := e.phase(ctx, "cutover")
	if pgtest.Version() >= 130000 {
		if err != nil {
			t.Fatalf("cutover with a partition created after prepare: %v", err)
		}
		e.run(t, ctx, "cleanup")
		if got := readRows(t, ctx, db.Pool, events); joinLines(got) != joinLines(rows) {
			t.Errorf("rows of the new partition changed by the migration:\n before: %v\n after:  %v", rows, got)
		}
		if typ := columnType(t, ctx, db.Pool, "events_2027", "tag_id"); typ != "bigint" {
			t.Errorf("events_2027.tag_id is %s after cleanup", typ)
		}
		return
	}
	want := `partition events_2027 of "public"."events" was created or attached after prepare`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("cutover on PostgreSQL 12 with a partition created after prepare: err = %v, want %q", err, want)
	}
	if typ := columnType(t, ctx, db.Pool, "events", "tag_id"); typ != "integer" {
		t.Errorf("events.tag_id is %s after the refused cutover: the swap was not undone", typ)
	}
	e.run(t, ctx, "rollback")
	e.wantPhase(t, ctx, state.PhaseRolledBack)
	db.Exec(t, `DROP TABLE events_2027`)
	if after := schemaDump(t, db); after != before {
		t.Errorf("schema after rollback differs from before prepare:\n%s", firstDiff(before, after))
	}
}

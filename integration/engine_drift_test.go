package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// carriedDrift is a deploy between backfill and cutover: an index, a CHECK,
// a view, a materialized view and an UPDATE OF trigger on closure columns.
const carriedDrift = `
CREATE INDEX snap_busy_idx ON tag_stat_snapshots (tag_id) WHERE uses > 0;
ALTER TABLE tag_assignments ADD CONSTRAINT tag_assignments_tag_positive CHECK (tag_id > 0);
CREATE VIEW recent_snapshots AS SELECT tag_id, taken_at FROM tag_stat_snapshots;
CREATE MATERIALIZED VIEW tag_counts AS SELECT tag_id, count(*) AS n FROM tag_assignments GROUP BY tag_id;
CREATE FUNCTION keep_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER tag_stats_tag_change BEFORE UPDATE OF tag_id ON tag_stats FOR EACH ROW EXECUTE FUNCTION keep_row();`

// TestDriftCarried: objects a deploy adds on closure columns between
// backfill and cutover end up on the widened columns after cleanup, status
// lists them as soon as they exist, and cutover --dry-run shows how the
// plan changes.
func TestDriftCarried(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	p := saasPlan(t, ctx, db)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare", "backfill")
	db.Exec(t, carriedDrift)

	all, err := migrator.ReadStatus(ctx, db.Pool, e.st)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range all[0].Drift {
		if d.Kind != planner.DriftCarry {
			t.Errorf("drift %s: kind %s, want carry", d, d.Kind)
		}
		lines = append(lines, d.String())
	}
	for _, want := range []string{`index "snap_busy_idx" on public.tag_stat_snapshots: added on "tag_id"`,
		`check constraint "tag_assignments_tag_positive" on public.tag_assignments: added on "tag_id"`,
		`trigger "tag_stats_tag_change" on public.tag_stats: added on "tag_id"`,
		"view public.recent_snapshots: created since prepare",
		"materialized view public.tag_counts: created since prepare"} {
		if !strings.Contains(joinLines(lines), want) {
			t.Errorf("status drift lacks %q:\n%s", want, joinLines(lines))
		}
	}

	var dry bytes.Buffer
	if err := e.m.DryRun(ctx, &dry, saasTarget, planner.Cutover); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dry.String(), "+ cutover/index/public.snap_busy_idx_pgwiden_new") || !strings.Contains(dry.String(), `CREATE INDEX CONCURRENTLY "snap_busy_idx_pgwiden_new"`) {
		t.Errorf("cutover --dry-run does not show the new index:\n%s", dry.String())
	}
	if e.job(t, ctx).Plan.Steps[0].ID == "" || strings.Contains(joinLines(stepIDs(e.job(t, ctx).Plan)), "snap_busy_idx") {
		t.Errorf("dry-run recorded the new plan")
	}

	e.run(t, ctx, "cutover", "cleanup")
	e.wantPhase(t, ctx, state.PhaseDone)
	assertWidened(t, ctx, db, p)
	assertNoPgwidenObjects(t, ctx, db)
	got := readRows(t, ctx, db.Pool, `
SELECT 'index ' || pg_get_indexdef('snap_busy_idx'::regclass) || ' on ' || (SELECT format_type(atttypid, atttypmod) FROM pg_attribute a JOIN pg_index i ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indexrelid = 'snap_busy_idx'::regclass)
UNION ALL SELECT 'check ' || pg_get_constraintdef(c.oid) || ' on ' || format_type(a.atttypid, a.atttypmod) FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] WHERE conname = 'tag_assignments_tag_positive'
UNION ALL SELECT 'view ' || attrelid::regclass || '.' || attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'recent_snapshots'::regclass AND attname = 'tag_id'
UNION ALL SELECT 'matview ' || attrelid::regclass || '.' || attname || ' ' || format_type(atttypid, atttypmod) || ' populated ' || (SELECT ispopulated FROM pg_matviews WHERE matviewname = 'tag_counts') FROM pg_attribute WHERE attrelid = 'tag_counts'::regclass AND attname = 'tag_id'
UNION ALL SELECT 'trigger ' || tgname || ' on ' || (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',') FROM pg_attribute WHERE attrelid = tgrelid AND attnum = ANY (tgattr)) FROM pg_trigger WHERE tgname = 'tag_stats_tag_change'
ORDER BY 1`)
	want := []string{
		"check CHECK ((tag_id > 0)) on bigint",
		"index CREATE INDEX snap_busy_idx ON public.tag_stat_snapshots USING btree (tag_id) WHERE (uses > 0) on bigint",
		"matview tag_counts.tag_id bigint populated true",
		"trigger tag_stats_tag_change on tag_id bigint",
		"view recent_snapshots.tag_id bigint",
	}
	if joinLines(got) != joinLines(want) {
		t.Errorf("the deploy's objects after cleanup:\n%s\nwant:\n%s", joinLines(got), joinLines(want))
	}
}

func stepIDs(p *planner.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID)
	}
	return out
}

// TestDriftRefused: a change the cutover cannot carry is refused before any
// change, naming the object and the fix; the schema stays as it was, and
// rollback restores the original plus the user's change.
func TestDriftRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, change, want string
		// user is true when the change stays after a rollback.
		user bool
		// bypass runs before change, on the migrated database only: what
		// a DBA must do first for the server to accept the change at all
		// (TestSyncTriggerProtectsColumns).
		bypass string
	}{
		{"new table with an int4 FK", `CREATE TABLE tag_votes (id int PRIMARY KEY, tag_id int REFERENCES "Tags" ("Id"))`,
			`foreign key "tag_votes_tag_id_fkey" on public.tag_votes: added since prepare: its column "tag_id" (integer) references public.Tags.Id, which this migration widens, and is not part of it; fix: widen public.tag_votes.tag_id to bigint before the cutover (a small new table: ALTER TABLE "public"."tag_votes" ALTER COLUMN "tag_id" TYPE bigint; a large one: see pgwiden plan --schema public --table tag_votes --column tag_id)`, true, ""},
		{"closure column renamed", `ALTER TABLE tag_stat_snapshots RENAME COLUMN tag_id TO stat_tag_id`,
			`column public.tag_stat_snapshots.tag_id: renamed or dropped since prepare; fix: rename it back to "tag_id"`, true, ""},
		{"closure column retyped", `ALTER TABLE tag_stat_snapshots ALTER COLUMN tag_id TYPE bigint`,
			`column public.tag_stat_snapshots.tag_id: retyped from integer to bigint since prepare`, true,
			`DROP TRIGGER zz_pgwiden_sync ON tag_stat_snapshots`},
		{"partition attached", `CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')`,
			`partition public.events_2027: attached to public.events since prepare; fix: detach it until the migration is done`, true, ""},
		{"shadow column dropped", `ALTER TABLE tag_details DROP COLUMN "TagId_pgwiden_new" CASCADE`,
			`shadow column public.tag_details.TagId_pgwiden_new: dropped by hand`, false, ""},
		{"sync trigger dropped", `DROP TRIGGER zz_pgwiden_sync ON tag_assignments`,
			`trigger zz_pgwiden_sync on public.tag_assignments: dropped by hand`, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, saasSchema)
			want := newDBWith(t, saasSchema)
			if c.user {
				want.Exec(t, c.change)
			}
			e := newEngine(t, db, engineConfig(), noHooks)
			e.run(t, ctx, "prepare", "backfill")
			if c.bypass != "" {
				db.Exec(t, c.bypass)
			}
			db.Exec(t, c.change)
			before := catalogDump(t, db)
			err := e.phase(ctx, "cutover")
			var de *migrator.DriftError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("cutover: %v\nwant a DriftError with %q", err, c.want)
			}
			if after := catalogDump(t, db); after != before {
				t.Errorf("the refused cutover changed the schema:\n%s", firstDiff(before, after))
			}
			e.wantPhase(t, ctx, state.PhaseBackfilled)
			e.run(t, ctx, "rollback")
			if got, exp := catalogDump(t, db), catalogDump(t, want); got != exp {
				t.Errorf("after rollback the schema is not the original plus the change:\n%s", firstDiff(exp, got))
			}
			assertNoPgwidenObjects(t, ctx, db)
		})
	}
}

// TestDriftCleanupRefused: a partition detached after the swap would keep
// the old column and a trigger calling pgwiden's function; cleanup refuses
// before dropping anything, and goes through once it is attached again.
func TestDriftCleanupRefused(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare", "backfill", "cutover")
	db.Exec(t, `ALTER TABLE events DETACH PARTITION events_2026`)
	before := catalogDump(t, db)
	err := e.phase(ctx, "cleanup")
	var de *migrator.DriftError
	want := "cleanup public.Tags.Id: refused before any change: the schema changed since prepare: partition public.events_2026: detached from public.events since prepare; fix: attach it again"
	if !errors.As(err, &de) || !strings.Contains(err.Error(), want) {
		t.Fatalf("cleanup: %v\nwant a DriftError with %q", err, want)
	}
	if after := catalogDump(t, db); after != before {
		t.Errorf("the refused cleanup changed the schema:\n%s", firstDiff(before, after))
	}
	db.Exec(t, `ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`)
	e.run(t, ctx, "cleanup")
	e.wantPhase(t, ctx, state.PhaseDone)
	assertNoPgwidenObjects(t, ctx, db)
}

// catalogDump is the schema as pgwiden's catalog reads it, without what
// data changes (sizes, row estimates, sequence positions) or the database
// name: pg_dump is not there for every server version the suite runs on.
func catalogDump(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	snap, err := catalog.Load(pgtest.Context(t), db.Pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap.Database = ""
	snap.Tables = slices.DeleteFunc(snap.Tables, func(t catalog.Table) bool { return t.Name.Schema == "pgwiden" })
	for i := range snap.Tables {
		tab := &snap.Tables[i]
		tab.RowEstimate, tab.TableBytes, tab.TotalBytes, tab.Pages = 0, 0, 0, 0
		for j := range tab.Indexes {
			tab.Indexes[j].Bytes = 0
		}
	}
	for i := range snap.Sequences {
		snap.Sequences[i].LastValue = nil
	}
	doc, err := json.MarshalIndent(snap, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

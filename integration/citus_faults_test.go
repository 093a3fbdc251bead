//go:build citus

package integration

import (
	"context"
	"errors"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

var citusTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "campaigns"}, Column: "id"}

// TestCitusFailureAtEachPrepareStep fails prepare of campaigns.id before
// each of its steps in turn, on both cluster shapes. A rollback then
// leaves the shell tables and every shard as before prepare; a failure at
// the same step once more, followed by prepare run again, resumes where it
// stopped (each step's probe skips what is done), and a rollback of that
// restores everything too.
func TestCitusFailureAtEachPrepareStep(t *testing.T) {
	for _, shape := range citusShapes {
		t.Run(shape.name, func(t *testing.T) {
			ctx := pgtest.Context(t)
			db := shape.make(t)
			before := joinLines(citusSchemaDump(t, ctx, db, "campaigns", "ads"))
			for _, s := range buildPlan(t, ctx, db, citusTarget).PhaseSteps(planner.Prepare) {
				failing := citusEngine(t, db, s.ID)
				if err := failing.m.Prepare(ctx, citusTarget); !errors.Is(err, errInjected) {
					t.Fatalf("prepare = %v, want the injected failure before %s", err, s.ID)
				}
				e := citusEngine(t, db, "")
				citusPhase(t, ctx, e, "rollback after a failure before "+s.ID, e.m.Rollback)
				if after := joinLines(citusSchemaDump(t, ctx, db, "campaigns", "ads")); after != before {
					t.Fatalf("after a failure before %s and a rollback, the schema differs from before prepare: %s", s.ID, firstDiff(before, after))
				}
				if err := failing.m.Prepare(ctx, citusTarget); !errors.Is(err, errInjected) {
					t.Fatalf("prepare again = %v, want the injected failure before %s", err, s.ID)
				}
				citusPhase(t, ctx, e, "prepare resumed after a failure before "+s.ID, e.m.Prepare)
				e.wantCitusPhase(t, ctx, state.PhasePrepared)
				citusPhase(t, ctx, e, "rollback of the resumed prepare", e.m.Rollback)
				if after := joinLines(citusSchemaDump(t, ctx, db, "campaigns", "ads")); after != before {
					t.Fatalf("after prepare resumed before %s and a rollback, the schema differs from before prepare: %s", s.ID, firstDiff(before, after))
				}
			}
		})
	}
}

// TestCitusFailureAtEachCutoverStep fails the cutover before each of its
// steps in turn, on a single node; the cutover run again completes
// (probes skip what is done), every shard has the bigint column, and a
// rollback restores the schema of before prepare.
func TestCitusFailureAtEachCutoverStep(t *testing.T) {
	ctx := pgtest.Context(t)
	db := newCitusDB(t)
	before := joinLines(citusSchemaDump(t, ctx, db, "campaigns", "ads"))
	for _, s := range buildPlan(t, ctx, db, citusTarget).PhaseSteps(planner.Cutover) {
		if s.During != "" || s.Batch != nil {
			continue // runs inside another step; a verification walk has no step hook
		}
		e := citusEngine(t, db, "")
		citusPhase(t, ctx, e, "prepare", e.m.Prepare)
		citusPhase(t, ctx, e, "backfill", e.m.Backfill)
		if err := citusEngine(t, db, s.ID).m.Cutover(ctx, citusTarget); !errors.Is(err, errInjected) {
			t.Fatalf("cutover = %v, want the injected failure before %s", err, s.ID)
		}
		citusPhase(t, ctx, e, "cutover resumed after a failure before "+s.ID, e.m.Cutover)
		e.wantCitusPhase(t, ctx, state.PhaseCutOver)
		for _, typ := range onShards(t, ctx, db, "ads", `SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'campaign_id'`) {
			if typ != "bigint" {
				t.Fatalf("after the cutover resumed before %s, a shard's ads.campaign_id is %s", s.ID, typ)
			}
		}
		citusPhase(t, ctx, e, "rollback after the cutover", e.m.Rollback)
		if after := joinLines(citusSchemaDump(t, ctx, db, "campaigns", "ads")); after != before {
			t.Fatalf("after a rollback of the cutover resumed before %s, the schema differs from before prepare: %s", s.ID, firstDiff(before, after))
		}
	}
}

// citusEngine is an in-process migrator whose hooks fail before the step
// failAt ("" for none; cutover/swap through BeforeSwap).
func citusEngine(t *testing.T, db *pgtest.DB, failAt string) *engine {
	hooks := noHooks
	hooks.BeforeStep = func(_ context.Context, id string) error {
		if id == failAt {
			return errInjected
		}
		return nil
	}
	hooks.BeforeSwap = func(context.Context) error {
		if failAt == "cutover/swap" {
			return errInjected
		}
		return nil
	}
	return newEngine(t, db, engineConfig(), hooks)
}

func citusPhase(t *testing.T, ctx context.Context, e *engine, what string, run func(context.Context, planner.Target) error) {
	t.Helper()
	if err := run(ctx, citusTarget); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func (e *engine) wantCitusPhase(t *testing.T, ctx context.Context, want state.Phase) {
	t.Helper()
	j, err := e.st.Last(ctx, citusTarget)
	if err != nil || j == nil || j.Phase != want {
		t.Fatalf("migration of %s: %v, %v; want phase %s", citusTarget, j, err, want)
	}
}

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// errInjected is the failure the hook injects before a prepare step.
var errInjected = errors.New("failure injected by the test")

// refuseAlterSequence makes the database refuse ALTER SEQUENCE, as Citus
// refuses it on a distributed sequence ("Altering a distributed sequence
// is currently not supported"): a rollback that narrows a sequence prepare
// never widened fails on it.
const refuseAlterSequence = `
CREATE FUNCTION public.refuse_alter_sequence() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ALTER SEQUENCE refused by the test'; END $$;
CREATE EVENT TRIGGER refuse_alter_sequence ON ddl_command_start WHEN TAG IN ('ALTER SEQUENCE')
  EXECUTE PROCEDURE public.refuse_alter_sequence()`

const allowAlterSequence = `DROP EVENT TRIGGER refuse_alter_sequence; DROP FUNCTION public.refuse_alter_sequence()`

// TestRollbackAfterFailureAtEachPrepareStep fails prepare before each of
// its steps in turn (so after each one that precedes it), then rolls back.
// Each time the rollback must succeed, the catalog of schema public (as
// catalog.Load reads it: columns, constraints, indexes, triggers, sequences,
// views) must equal the one read before prepare, and nothing of pgwiden may
// remain. (pg_dump is not shipped with every PostgreSQL version the tests
// run on; catalog.Load is.) Until
// prepare has widened a sequence, ALTER SEQUENCE is refused outright: the
// rollback must find that no sequence was widened and not narrow one.
func TestRollbackAfterFailureAtEachPrepareStep(t *testing.T) {
	ctx := pgtest.Context(t)
	var steps []planner.Step
	for _, s := range saasPlan(t, ctx, newDBWith(t, saasSchema)).Steps {
		if s.Phase == planner.Prepare {
			steps = append(steps, s)
		}
	}
	if len(steps) < 5 {
		t.Fatalf("the saas plan has %d prepare steps, want the shadow columns, triggers and sequences of several tables", len(steps))
	}
	widened := false
	for _, s := range steps {
		// Once a sequence has been widened the rollback must narrow it.
		refuse := !widened
		widened = widened || strings.HasPrefix(s.ID, "prepare/widen-sequence/")
		t.Run(s.ID, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, saasSchema)
			before := catalogJSON(t, ctx, db)
			hooks := noHooks
			hooks.BeforeStep = func(_ context.Context, id string) error {
				if id == s.ID {
					return errInjected
				}
				return nil
			}
			e := newEngine(t, db, engineConfig(), hooks)
			if err := e.phase(ctx, "prepare"); !errors.Is(err, errInjected) {
				t.Fatalf("prepare = %v, want the injected failure before %s", err, s.ID)
			}
			if refuse {
				db.Exec(t, refuseAlterSequence)
			}
			e.run(t, ctx, "rollback")
			if refuse {
				db.Exec(t, allowAlterSequence)
			}
			e.wantPhase(t, ctx, state.PhaseRolledBack)
			if after := catalogJSON(t, ctx, db); after != before {
				t.Errorf("catalog after rollback differs from before prepare:\n%s", firstDiff(before, after))
			}
			assertNoPgwidenObjects(t, ctx, db)
		})
	}
}

// catalogJSON is catalog.Load of schema public as indented JSON, to compare
// a schema before and after.
func catalogJSON(t *testing.T, ctx context.Context, db *pgtest.DB) string {
	t.Helper()
	b, err := json.MarshalIndent(mustLoad(t, ctx, db.Pool, "public"), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package migrator

import (
	"context"
	"fmt"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Cleanup drops what the cutover kept for a rollback: the old columns, the
// triggers and their functions. After it the migration cannot be rolled
// back; the CLI asks for confirmation first.
func (m *Migrator) Cleanup(ctx context.Context, t planner.Target) error {
	r, err := m.open(ctx, t, false)
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if r.job == nil {
		return m.finished(ctx, t, "cleanup")
	}
	if err := r.require(t, state.PhaseCutOver, state.PhaseCleaningUp); err != nil {
		return err
	}
	if err := r.checkDrift(ctx, planner.Cleanup); err != nil {
		return r.fail(ctx, fmt.Errorf("cleanup %s: %w", t, err))
	}
	if err := r.preflight(ctx, planner.Cleanup, planner.Cleanup); err != nil {
		return err
	}
	if err := r.checkDependents(ctx); err != nil {
		return r.fail(ctx, fmt.Errorf("cleanup %s: %w", t, err))
	}
	if err := r.setPhase(ctx, state.PhaseCleaningUp); err != nil {
		return err
	}
	for _, s := range r.steps(planner.Cleanup) {
		if err := r.step(ctx, s); err != nil {
			return r.fail(ctx, fmt.Errorf("cleanup %s: %w", t, err))
		}
	}
	return r.setPhase(ctx, state.PhaseDone)
}

// checkDependents runs the plan's check that nothing of the user's uses an
// old column, on every cleanup (objects may appear between two runs), and
// before the phase changes: a refused cleanup leaves the migration cut
// over, so it can still be rolled back.
func (r *run) checkDependents(ctx context.Context) error {
	for _, s := range r.steps(planner.Cleanup) {
		if s.ID == planner.CheckDependentsID {
			delete(r.done, s.ID)
			return r.step(ctx, s)
		}
	}
	return nil // a plan recorded before the check existed
}

// finished explains a command run for a target with no active migration:
// either the last one ended (no-op) or there never was one.
func (m *Migrator) finished(ctx context.Context, t planner.Target, cmd string) error {
	last, err := m.st.Last(ctx, t)
	if err != nil {
		return err
	}
	if last == nil {
		return &PhaseOrderError{Target: t, Run: "prepare"}
	}
	m.log.Info().Str("target", t.String()).Str("phase", string(last.Phase)).Msgf("%s: the last migration of this column is %s; nothing to do", cmd, phaseWords(last.Phase))
	return nil
}

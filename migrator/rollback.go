package migrator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Rollback returns the schema to what it was before prepare. Before the
// swap that is the plan's rollback steps, newest first (each is a no-op
// if its object is already gone). After the swap the columns must first be
// swapped back, which needs every value to fit the old type.
func (m *Migrator) Rollback(ctx context.Context, t planner.Target) error {
	r, err := m.open(ctx, t, false)
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if r.job == nil {
		return m.finished(ctx, t, "rollback")
	}
	if r.job.Phase == state.PhaseCleaningUp {
		return fmt.Errorf("rollback %s: cleanup has started dropping the old columns: there is nothing to roll back to; run pgwiden cleanup again to finish", t)
	}
	if err := r.checkDrift(ctx, planner.Rollback); err != nil {
		return r.fail(ctx, fmt.Errorf("rollback %s: %w", t, err))
	}
	phases := []planner.Phase{planner.Rollback}
	if r.done[swapID] {
		phases = append(phases, planner.Unswap)
	}
	if err := r.preflight(ctx, planner.Rollback, phases...); err != nil {
		return err
	}
	if err := r.setPhase(ctx, state.PhaseRollingBack); err != nil {
		return err
	}
	if r.done[swapID] {
		if err := r.unswap(ctx); err != nil {
			return r.fail(ctx, r.refused(ctx, fmt.Errorf("rollback %s: %w", t, err)))
		}
	}
	for _, s := range r.steps(planner.Rollback) {
		if err := r.step(ctx, s); err != nil {
			return r.fail(ctx, fmt.Errorf("rollback %s: %w", t, err))
		}
	}
	return r.setPhase(ctx, state.PhaseRolledBack)
}

// unswap swaps the old columns back in (planner.Unswap): verify that every
// value still fits, rebuild what the old columns lost, swap in one short
// transaction. Like the cutover, it resumes where it stopped.
func (r *run) unswap(ctx context.Context) error {
	for _, s := range r.steps(planner.Unswap) {
		var err error
		switch {
		case s.Batch != nil:
			err = r.verifyFits(ctx, s)
		case s.ID == unswapID:
			err = r.swapBack(ctx, s)
		default:
			err = r.step(ctx, s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

const unswapID = "unswap/swap"

// verifyFits refuses the swap back when a value no longer fits the old
// type: the old column holds NULL there, and swapping back would lose it.
func (r *run) verifyFits(ctx context.Context, s planner.Step) error {
	err := r.verify(ctx, s)
	var d *differError
	if errors.As(err, &d) {
		return &beyondRangeError{d}
	}
	return err
}

// beyondRangeError is a rollback refused because values no longer fit the
// old columns.
type beyondRangeError struct{ d *differError }

func (e *beyondRangeError) Error() string {
	return fmt.Sprintf("%d row(s) of %s hold values beyond the old column's range: rolling back would lose them; the migration can only go forward (pgwiden cleanup)", e.d.rows, e.d.table)
}

// refused undoes the start of a rollback refused for values beyond the old
// range: it lifts the guard (values beyond the old type are accepted
// again), forgets the guard steps so a later rollback puts it back, and
// returns the migration to phase cut_over. The refusal comes before the
// swap back, the columns are still swapped, and the error sends the
// operator to cleanup, which refuses to start from rolling_back. Other
// errors leave the migration rolling back, to be resumed.
func (r *run) refused(ctx context.Context, err error) error {
	var b *beyondRangeError
	if !errors.As(err, &b) {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	var guards []string
	for _, s := range r.steps(planner.Unswap) {
		if strings.HasPrefix(s.ID, "unswap/guard/") {
			guards = append(guards, s.ID)
			delete(r.done, s.ID)
		}
	}
	for _, s := range r.steps(planner.Unguard) {
		if uerr := r.step(ctx, s); uerr != nil {
			return errors.Join(err, uerr)
		}
	}
	// Forget the unguard steps too: a later refusal must run them again.
	for _, s := range r.steps(planner.Unguard) {
		guards = append(guards, s.ID)
		delete(r.done, s.ID)
	}
	if ferr := r.m.st.Forget(ctx, r.m.pool, r.job.ID, guards); ferr != nil {
		return errors.Join(err, ferr)
	}
	if perr := r.setPhase(ctx, state.PhaseCutOver); perr != nil {
		return errors.Join(err, perr)
	}
	return err
}

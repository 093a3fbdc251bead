package migrator

import (
	"context"
	"fmt"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Prepare records the plan and runs its prepare steps: shadow columns,
// sync triggers, wider sequences. Re-run after an interruption it resumes
// with the plan it recorded first (the catalog has changed since: it now
// has shadow columns), and once done it is a no-op.
func (m *Migrator) Prepare(ctx context.Context, t planner.Target) error {
	r, err := m.open(ctx, t, true)
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if r.job == nil {
		p, err := m.Plan(ctx, t)
		if err != nil || p == nil {
			return err
		}
		if err := m.preflight(ctx, p, planner.Prepare, p.PhaseSteps(planner.Prepare), nil); err != nil {
			return err
		}
		if r.job, err = m.st.Create(ctx, p); err != nil {
			return err
		}
		r.log = r.log.With().Int64("migration", r.job.ID).Logger()
		r.log.Info().Int("tables", len(p.Tables)).Msg("migration recorded")
	}
	if err := r.require(t, state.PhasePreparing); err != nil {
		r.log.Info().Str("phase", string(r.job.Phase)).Msg("prepare is already done")
		return nil
	}
	if err := r.preflight(ctx, planner.Prepare, planner.Prepare); err != nil {
		return r.fail(ctx, err)
	}
	for _, s := range r.steps(planner.Prepare) {
		if err := r.step(ctx, s); err != nil {
			return r.fail(ctx, fmt.Errorf("prepare %s: %w", t, err))
		}
	}
	return r.setPhase(ctx, state.PhasePrepared)
}

// fail records err as the job's last error, for status, and returns it.
func (r *run) fail(ctx context.Context, err error) error {
	if serr := r.m.st.SetError(context.WithoutCancel(ctx), r.job.ID, err.Error()); serr != nil {
		r.log.Warn().Err(serr).Msg("record the error in pgwiden.migrations")
	}
	return err
}

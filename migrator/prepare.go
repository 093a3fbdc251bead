package migrator

import (
	"context"
	"fmt"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Prepare records the plan and runs its prepare steps: shadow columns,
// sync triggers, wider sequences. Re-run after an interruption it resumes
// with the plan it recorded first (the catalog has changed since: it now
// has shadow columns), and once done it is a no-op.
func (m *Migrator) Prepare(ctx context.Context, t planner.Target) error {
	return m.prepare(ctx, t, nil)
}

// PrepareWith is Prepare with a plan the caller made from the live catalog
// with planner.Build: a rehearsal plans once, checks with that plan, and
// has prepare record the same one. A plan with blockers is refused; one
// with nothing to do does nothing. An existing migration of the target
// keeps the plan it recorded.
func (m *Migrator) PrepareWith(ctx context.Context, p *planner.Plan) error {
	return m.prepare(ctx, p.Target, p)
}

func (m *Migrator) prepare(ctx context.Context, t planner.Target, given *planner.Plan) error {
	r, err := m.open(ctx, t, true)
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if r.job == nil {
		p, snap, err := m.planOr(ctx, t, given)
		if err != nil || p == nil {
			return err
		}
		if err := m.preflight(ctx, p, planner.Prepare, p.PhaseSteps(planner.Prepare), nil); err != nil {
			return err
		}
		if r.job, err = m.st.Create(ctx, p); err != nil {
			return err
		}
		// Later phases compare the live catalog with this one (drift.go).
		if err := m.st.SetCatalog(ctx, r.job.ID, planner.Record(snap, p)); err != nil {
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

// planOr is the given plan, checked as Plan checks its own, or a new one,
// with the catalog prepare records for the drift checks of later phases.
// A given plan was made moments ago; the catalog read now is the one the
// migration starts from.
func (m *Migrator) planOr(ctx context.Context, t planner.Target, given *planner.Plan) (*planner.Plan, *catalog.Snapshot, error) {
	switch {
	case given == nil:
		return m.plan(ctx, t)
	case len(given.Blockers) > 0:
		return nil, nil, &BlockerError{Target: t, Blockers: given.Blockers}
	case given.NothingToDo:
		return nil, nil, nil
	}
	snap, err := catalog.Load(ctx, m.pool, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("read catalog: %w", err)
	}
	return given, snap, nil
}

// fail records err as the job's last error, for status, and returns it.
func (r *run) fail(ctx context.Context, err error) error {
	if serr := r.m.st.SetError(context.WithoutCancel(ctx), r.job.ID, err.Error()); serr != nil {
		r.log.Warn().Err(serr).Msg("record the error in pgwiden.migrations")
	}
	return err
}

package migrator

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/planner"
)

// PreflightError is a phase that did not start because the server would
// refuse one of its statements: nothing was changed.
type PreflightError struct {
	Target  planner.Target
	Phase   planner.Phase
	Missing []planner.Need
}

func (e *PreflightError) Error() string {
	n := e.Missing[0]
	more := ""
	if k := len(e.Missing) - 1; k > 0 {
		whats := make([]string, 0, k)
		for _, m := range e.Missing[1:] {
			whats = append(whats, m.What)
		}
		more = fmt.Sprintf(" (also missing: %s)", strings.Join(whats, "; "))
	}
	return fmt.Sprintf("%s %s did not start, nothing was changed: it needs %s; fix: %s%s", e.Phase, e.Target, n.What, n.Fix, more)
}

// preflight checks, before a phase changes anything, what the steps it
// will still run need from the server (planner.Plan.PhaseNeeds), and
// refuses the phase with every missing need at once.
func (m *Migrator) preflight(ctx context.Context, p *planner.Plan, phase planner.Phase, steps []planner.Step, done map[string]bool) error {
	// A standby first, with the error a failover's reconnect gives too
	// (reconnect.go): the DSN leads to the wrong server, whatever the
	// role may do.
	var standby bool
	if err := m.pool.QueryRow(ctx, tag("preflight "+string(phase), "SELECT pg_is_in_recovery()")).Scan(&standby); err != nil {
		return fmt.Errorf("%s %s: check for a standby: %w", phase, p.Target, err)
	}
	if standby {
		return &StandbyError{Phase: phase}
	}
	var todo []planner.Step
	for _, s := range steps {
		if !done[s.ID] {
			todo = append(todo, s)
		}
	}
	var missing []planner.Need
	for _, n := range p.PhaseNeeds(todo) {
		var ok bool
		if err := m.pool.QueryRow(ctx, tag("preflight "+string(phase), n.Check), n.Args...).Scan(&ok); err != nil {
			return fmt.Errorf("%s %s: check %s: %w", phase, p.Target, n.What, err)
		}
		if !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return &PreflightError{Target: p.Target, Phase: phase, Missing: missing}
	}
	return nil
}

// preflight checks the job's remaining steps of phases (see
// Migrator.preflight).
func (r *run) preflight(ctx context.Context, phase planner.Phase, phases ...planner.Phase) error {
	var steps []planner.Step
	for _, ph := range phases {
		steps = append(steps, r.steps(ph)...)
	}
	return r.m.preflight(ctx, r.job.Plan, phase, steps, r.done)
}

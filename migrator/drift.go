package migrator

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// DriftError is a phase refused, before it changed anything, because the
// closure's tables changed since prepare in a way pgwiden cannot carry.
type DriftError struct {
	Target  planner.Target
	Phase   planner.Phase
	Changes []planner.DriftChange
}

func (e *DriftError) Error() string {
	more := ""
	if n := len(e.Changes) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more: see pgwiden status)", n)
	}
	// The phase wraps it with its name and target.
	return fmt.Sprintf("refused before any change: the schema changed since prepare: %s%s", e.Changes[0], more)
}

// DriftReport is what changed in a migration's tables since prepare, with
// the two catalogs compared and, when the cutover can carry every change,
// the plan it would follow.
type DriftReport struct {
	Changes  []planner.DriftChange
	Recorded *catalog.Snapshot
	Live     *catalog.Snapshot
	// Plan and Catalog are the new plan and the catalog to record with it,
	// nil unless there are changes and all can be carried; Steps says how
	// the steps change (planner.StepChanges).
	Plan    *planner.Plan
	Catalog *catalog.Snapshot
	Steps   []string
}

// ReadDrift compares the live catalog of a migration's tables with the one
// recorded at prepare and, before the swap, plans again to learn whether
// the cutover can carry what changed. It returns nil when there is nothing
// to compare: a migration still preparing or finished, or no recorded
// catalog.
func ReadDrift(ctx context.Context, q catalog.Querier, st *state.Store, job *state.Job, done map[string]bool) (*DriftReport, error) {
	if job.Phase.Finished() || job.Phase == state.PhasePreparing {
		return nil, nil
	}
	rec, err := st.Catalog(ctx, job.ID)
	if err != nil || rec == nil {
		return nil, err
	}
	live, err := catalog.Load(ctx, q, nil)
	if err != nil {
		return nil, fmt.Errorf("read the catalog to compare with prepare's: %w", err)
	}
	rep := &DriftReport{Recorded: rec, Live: live,
		Changes: planner.Drift(planner.DriftCheck{Plan: job.Plan, Recorded: rec, Live: live, Swapped: swapped(done)})}
	if len(rep.Changes) > 0 && len(planner.Refusals(rep.Changes)) == 0 && !swapped(done) {
		rep.replan(job, done)
	}
	return rep, nil
}

// replan plans again from the recorded catalog with the live objects. What
// the new plan cannot do becomes a refusal: a blocker (a materialized view
// or a policy added on a closure column), a closure that changed, a step
// already done whose object changed since (its copy is built: only a
// rollback undoes that cleanly).
func (rep *DriftReport) replan(job *state.Job, done map[string]bool) {
	refuse := func(object, detail, fix string) {
		rep.Changes = append(rep.Changes, planner.DriftChange{Kind: planner.DriftRefuse, Object: object, Detail: detail, Fix: fix})
	}
	np, nrec, err := planner.Replan(rep.Recorded, rep.Live, job.Plan)
	if err != nil {
		refuse("migration of "+job.Target.String(), err.Error(), "")
		return
	}
	for _, b := range np.Blockers {
		// The change that brought the blocker is not carried after all.
		i := slices.IndexFunc(rep.Changes, func(c planner.DriftChange) bool {
			return c.Kind == planner.DriftCarry && strings.HasSuffix(c.Object, " "+b.Object)
		})
		if i < 0 {
			refuse(b.Object, b.Detail, b.Fix)
			continue
		}
		c := &rep.Changes[i]
		c.Kind, c.Detail, c.Fix = planner.DriftRefuse, c.Detail+": "+b.Detail, b.Fix
	}
	diff := planner.StepChanges(job.Plan, np)
	for _, d := range diff {
		if id := d[2:]; done[id] && !strings.HasPrefix(d, "+") {
			refuse("step "+id, "already done, and what it copied changed since",
				"roll the migration back (pgwiden rollback) and start again with prepare")
		}
	}
	if len(planner.Refusals(rep.Changes)) == 0 {
		rep.Plan, rep.Catalog, rep.Steps = np, nrec, diff
	}
}

// checkDrift runs at the start of cutover, cleanup and rollback, before
// they take any lock. It refuses what cannot be carried; at cutover, before
// the swap, it carries the rest: it records the new plan and follows it.
func (r *run) checkDrift(ctx context.Context, phase planner.Phase) error {
	rep, err := ReadDrift(ctx, r.m.pool, r.m.st, r.job, r.done)
	if err != nil {
		return err
	}
	if rep == nil {
		r.log.Warn().Msg("no catalog recorded at prepare: schema drift is not checked")
		return nil
	}
	for _, c := range rep.Changes {
		r.log.Warn().Str("kind", string(c.Kind)).Str("object", c.Object).Msg("schema drift: " + c.String())
	}
	if phase == planner.Rollback && !swapped(r.done) {
		// Before the swap a rollback only drops pgwiden's objects, whatever
		// changed around them: it stays the way out.
		return nil
	}
	if ref := planner.Refusals(rep.Changes); len(ref) > 0 {
		return &DriftError{Target: r.job.Target, Phase: phase, Changes: ref}
	}
	if phase != planner.Cutover || rep.Plan == nil {
		return nil
	}
	if err := r.m.st.Replan(ctx, r.job.ID, rep.Plan, rep.Catalog); err != nil {
		return err
	}
	r.job.Plan = rep.Plan
	r.log.Info().Strs("steps", rep.Steps).Msg("schema drift carried: the cutover follows a new plan, recorded in pgwiden.migrations")
	return nil
}

// swapped reports whether the columns are swapped now: swapped and not
// swapped back.
func swapped(done map[string]bool) bool { return done[swapID] && !done[unswapID] }

// dryRunDrift prints, for cutover --dry-run, what changed since prepare
// and, when the cutover can carry it, how its plan changes; it returns the
// plan the cutover would follow. Nothing is recorded.
func (m *Migrator) dryRunDrift(ctx context.Context, w io.Writer, job *state.Job, done map[string]bool) (*planner.Plan, error) {
	rep, err := ReadDrift(ctx, m.pool, m.st, job, done)
	if err != nil || rep == nil || len(rep.Changes) == 0 {
		return job.Plan, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- schema drift since prepare:\n")
	for _, c := range rep.Changes {
		fmt.Fprintf(&b, "--   %s\n", c)
	}
	p := job.Plan
	if ref := planner.Refusals(rep.Changes); len(ref) > 0 {
		fmt.Fprintf(&b, "-- cutover would refuse before any change: %d change(s) cannot be carried\n", len(ref))
	} else if rep.Plan != nil {
		fmt.Fprintf(&b, "-- the cutover plans again and records the new plan; its steps change so:\n")
		for _, d := range rep.Steps {
			fmt.Fprintf(&b, "--   %s\n", d)
		}
		p = rep.Plan
	}
	_, err = io.WriteString(w, b.String()+"\n")
	return p, err
}

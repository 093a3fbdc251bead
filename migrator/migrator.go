package migrator

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Migrator runs the phases of migrations in one database.
type Migrator struct {
	pool  *pgxpool.Pool
	st    *state.Store
	gov   Governor
	log   zerolog.Logger
	cfg   Config
	hooks Hooks
	// events are the subscribers' callbacks (Subscribe); emitMu makes
	// their calls one at a time, whichever worker of a walk sends them.
	events []Events
	emitMu sync.Mutex
	// LastSwap describes the swap this migrator made, if any.
	LastSwap SwapStats
}

// SetGovernor replaces the governor that paces the walks, before a phase
// runs: a rehearsal knows which tables its governor watches only once it
// has planned.
func (m *Migrator) SetGovernor(gov Governor) { m.gov = gov }

// New returns a migrator. gov paces the backfill.
func New(pool *pgxpool.Pool, st *state.Store, gov Governor, log zerolog.Logger, cfg Config, hooks Hooks) *Migrator {
	return &Migrator{pool: pool, st: st, gov: gov, log: log, cfg: cfg, hooks: hooks}
}

// run is one phase's hold on one migration: its job, the advisory lock
// that keeps other pgwiden processes out, and the steps already done.
type run struct {
	m    *Migrator
	job  *state.Job
	lock *state.Lock
	done map[string]bool
	log  zerolog.Logger
	// throttled is the throttle state last recorded for this job, ""
	// while the walk runs freely (throttle.go); mu guards it, as every
	// worker of a walk and their watchers record it.
	mu        sync.Mutex
	throttled string
	// compressWAL is set when the backfill's batches compress their
	// full-page images (walCompressible).
	compressWAL bool
}

// open locks the target's migration and loads its job (nil before
// prepare). Only prepare creates pgwiden's schema (create); any other
// phase finds nothing to do without it. The caller must call close.
func (m *Migrator) open(ctx context.Context, t planner.Target, create bool) (*run, error) {
	if err := CheckPooler(ctx, m.pool); err != nil {
		return nil, err
	}
	if !create && !m.st.Exists() {
		return nil, &PhaseOrderError{Target: t, Run: "prepare"}
	}
	if err := m.st.Ensure(ctx); err != nil {
		return nil, err
	}
	lock, err := m.st.Lock(ctx, t.String())
	if err != nil {
		return nil, err
	}
	m.logImposed(ctx, m.pool)
	r := &run{m: m, lock: lock, done: map[string]bool{}, log: m.log.With().Str("target", t.String()).Logger()}
	job, err := m.st.Active(ctx, t)
	if err == nil && job != nil {
		r.job = job
		r.log = r.log.With().Int64("migration", job.ID).Logger()
		r.done, err = m.st.DoneSteps(ctx, job.ID)
	}
	if err != nil {
		r.close(ctx)
		return nil, err
	}
	return r, nil
}

func (r *run) close(ctx context.Context) {
	if err := r.lock.Unlock(context.WithoutCancel(ctx)); err != nil {
		r.log.Warn().Err(err).Msg("release the migration lock")
	}
}

// require checks that the job is in one of the phases a command may start
// from; otherwise the error names the command to run next.
func (r *run) require(t planner.Target, want ...state.Phase) error {
	have := state.Phase("")
	if r.job != nil {
		have = r.job.Phase
	}
	for _, p := range want {
		if p == have {
			return nil
		}
	}
	return &PhaseOrderError{Target: t, Have: have, Run: nextCommand(have)}
}

// nextCommand is the command that moves a migration on from phase p.
func nextCommand(p state.Phase) string {
	switch p {
	case "", state.PhasePreparing:
		return "prepare"
	case state.PhasePrepared, state.PhaseBackfilling:
		return "backfill"
	case state.PhaseBackfilled, state.PhaseCuttingOver:
		return "cutover"
	case state.PhaseCutOver, state.PhaseCleaningUp:
		return "cleanup"
	case state.PhaseRollingBack:
		return "rollback"
	}
	return ""
}

// steps returns the plan's steps of one phase, in order, without those
// another step runs (planner.Step.During: companions).
func (r *run) steps(p planner.Phase) []planner.Step {
	var out []planner.Step
	for _, s := range r.job.Plan.Steps {
		if s.Phase == p && s.During == "" {
			out = append(out, s)
		}
	}
	return out
}

// companions returns the steps that step id runs itself: the VACUUM
// between a copy's batches, the drop of an index build's INVALID leftover.
func (r *run) companions(id string) []planner.Step {
	var out []planner.Step
	for _, s := range r.job.Plan.Steps {
		if s.During == id {
			out = append(out, s)
		}
	}
	return out
}

// setPhase records the job's new phase.
func (r *run) setPhase(ctx context.Context, p state.Phase) error {
	if err := r.m.st.SetPhase(ctx, r.m.pool, r.job.ID, p); err != nil {
		return err
	}
	if p.Finished() || p == state.PhasePrepared || p == state.PhaseBackfilled || p == state.PhaseCutOver {
		// A phase that completed leaves no error behind in status.
		if err := r.m.st.SetError(ctx, r.job.ID, ""); err != nil {
			return err
		}
	}
	r.job.Phase = p
	r.log.Info().Str("phase", string(p)).Msg("phase")
	return nil
}

// Plan reads the live catalog and plans target, refusing a plan with
// blockers. A nil plan and nil error mean there is nothing to do.
func (m *Migrator) Plan(ctx context.Context, t planner.Target) (*planner.Plan, error) {
	p, _, err := m.plan(ctx, t)
	return p, err
}

// plan is Plan that also returns the catalog it planned from.
func (m *Migrator) plan(ctx context.Context, t planner.Target) (*planner.Plan, *catalog.Snapshot, error) {
	snap, err := catalog.Load(ctx, m.pool, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("read catalog: %w", err)
	}
	p, err := planner.Build(snap, t)
	if err != nil {
		return nil, nil, err
	}
	if len(p.Blockers) > 0 {
		return nil, nil, &BlockerError{Target: t, Blockers: p.Blockers}
	}
	if p.NothingToDo {
		m.log.Info().Str("target", t.String()).Msg(p.Reason)
		return nil, nil, nil
	}
	return p, snap, nil
}

// DryRun prints the steps of phase that would run for target, with their
// locks, after the same read-only checks the phase makes; it changes
// nothing, not even pgwiden's state schema.
func (m *Migrator) DryRun(ctx context.Context, w io.Writer, t planner.Target, phase planner.Phase) error {
	job, err := m.peek(ctx, t)
	if err != nil {
		return err
	}
	var p *planner.Plan
	done := map[string]bool{}
	if job != nil {
		p = job.Plan
		if done, err = m.st.DoneSteps(ctx, job.ID); err != nil {
			return err
		}
		if phase == planner.Cutover {
			if p, err = m.dryRunDrift(ctx, w, job, done); err != nil {
				return err
			}
		}
	} else if phase != planner.Prepare {
		return &PhaseOrderError{Target: t, Run: "prepare"}
	} else if p, err = m.Plan(ctx, t); err != nil || p == nil {
		return err
	}
	return writeDryRun(w, p, phase, done)
}

// peek finds the target's active migration without creating pgwiden's
// schema when it does not exist yet.
func (m *Migrator) peek(ctx context.Context, t planner.Target) (*state.Job, error) {
	if !m.st.Exists() {
		return nil, nil
	}
	return m.st.Active(ctx, t)
}

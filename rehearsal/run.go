package rehearsal

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/internal/load"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// Config is what to rehearse and how.
type Config struct {
	Target planner.Target
	// DSN is the staging connection string, for pg_dump ("" leaves it to
	// the PG* environment variables, as it did for the pool).
	DSN string
	// StagingCheck is the operator's rule: one query that returns true
	// only on staging. AssumeStaging (--i-know-this-is-staging) stands in
	// for it; with both, the query must still return true.
	StagingCheck  string
	AssumeStaging bool
	// Keep stops after the cutover: the columns stay bigint and the
	// migration stays cut over (cleanup or rollback it later).
	Keep bool
	// ProductionRows, when positive and there is no production pool, is
	// the target table's row count in production.
	ProductionRows float64
	// Loads run during the rehearsal, after LoadBaseline alone.
	Loads        []Load
	LoadBaseline time.Duration
	// Engine is the migrator's configuration and Pacing its governor's,
	// shown in the report.
	Engine migrator.Config
	Pacing throttle.Config
}

// Deps are the connections and the engine a rehearsal works with; the
// caller builds them and closes them after Run.
type Deps struct {
	// Pool is the staging pool the migrator uses; the rehearsal's own
	// queries run on it between phases.
	Pool     *pgxpool.Pool
	Migrator *migrator.Migrator
	Store    *state.Store
	// Production is a read-only session (default_transaction_read_only)
	// on production, nil unless the extrapolation reads it.
	Production *pgxpool.Pool
	// LoadPool runs the loads (nil without loads); loadWorkers
	// connections per load keep them from queuing on each other.
	LoadPool *pgxpool.Pool
	// Log gets the rehearsal's own progress lines.
	Log zerolog.Logger
}

// RefusedError is a rehearsal that did not start, with nothing written:
// not staging by the operator's rule, a migration in progress, a bad
// production source. The CLI exits 2.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// FailedError is a rehearsal that ran and found problems; its report says
// what they are.
type FailedError struct {
	Target   planner.Target
	Problems []string
}

func (e *FailedError) Error() string {
	more := ""
	if n := len(e.Problems) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more: see the report)", n)
	}
	return fmt.Sprintf("rehearsal of %s failed: %s%s", e.Target, e.Problems[0], more)
}

// Rehearsal is one rehearsal: Check, then Run.
type Rehearsal struct {
	d   Deps
	cfg Config
	rep *Report

	checked bool
	snap    *catalog.Snapshot
	plan    *planner.Plan
	closure map[string]string // table or leaf -> closure table
	prod    []TableSize
	dumper  *schemaDumper
	before  string
	sizes0  []TableSize
	lsn     string
	load    *load.Runner
	capture *capture
	walks   *walkRecorder
	done    map[string]bool // the migration's steps recorded as done
}

// New prepares a rehearsal. It subscribes to the migrator's events to
// record the steps, the swaps, the warnings and the batched steps.
func New(d Deps, cfg Config) *Rehearsal {
	r := &Rehearsal{d: d, cfg: cfg, capture: &capture{swaps: map[string]Swap{}}, walks: &walkRecorder{last: map[string]migrator.Progress{}}}
	r.rep = &Report{FormatVersion: FormatVersion, Target: cfg.Target.String(), Kept: cfg.Keep, Settings: settingsOf(cfg.Engine, cfg.Pacing)}
	r.capture.subscribe(d.Migrator)
	d.Migrator.Subscribe(migrator.Events{OnProgress: r.walks.record})
	return r
}

// Plan is the plan Check made, nil before it: prepare records this same
// plan, and the caller builds the walks' governor from it.
func (r *Rehearsal) Plan() *planner.Plan { return r.plan }

// namedStep is one item of a rehearsal's checklist.
type namedStep struct {
	name string
	run  func(context.Context) error
}

// Check runs everything that comes before the first write: the staging
// rule, the plan, the production statistics and the "before" pictures.
// Its errors mean nothing was written.
func (r *Rehearsal) Check(ctx context.Context) error {
	for _, s := range []namedStep{
		{"staging check", r.checkStaging},
		{"no migration in progress", r.checkIdle},
		{"plan", r.planStaging},
		{"production statistics", r.readProduction},
		{"load key range", r.prepareLoads},
		{"schema before", r.schemaBefore},
		{"sizes and WAL before", r.measureStart},
	} {
		r.d.Log.Debug().Str("check", s.name).Msg("rehearse")
		if err := s.run(ctx); err != nil {
			return err
		}
	}
	r.checked = true
	return nil
}

// Run rehearses the migration: prepare, backfill, cutover and, unless
// Keep, rollback, with the load running, then the schema check and the
// report. A nil report means nothing was written (a Check error); with a
// report, a *FailedError lists the problems the report describes.
func (r *Rehearsal) Run(ctx context.Context) (*Report, error) {
	if !r.checked {
		if err := r.Check(ctx); err != nil {
			return nil, err
		}
	}
	r.rep.StartedAt = time.Now().UTC()
	r.startLoad(ctx)
	r.rehearsePhases(ctx)
	if r.load != nil {
		r.rep.Load = loadReports(r.cfg.Loads, r.load.Stop())
	}
	// What follows only reads: it runs after Ctrl-C too, so that the
	// report of an interrupted rehearsal says where it stopped.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, s := range []namedStep{
		{"schema after", r.schemaAfter},
		{"final phase", r.finalPhase},
	} {
		if err := s.run(fctx); err != nil {
			r.problem("%s: %v", s.name, err)
		}
	}
	r.summarize()
	r.extrapolate()
	r.rep.FinishedAt = time.Now().UTC()
	r.rep.Passed = len(r.rep.Problems) == 0
	if !r.rep.Passed {
		return r.rep, &FailedError{Target: r.cfg.Target, Problems: r.rep.Problems}
	}
	return r.rep, nil
}

// rehearsePhases runs the phases in order and stops at the first that
// fails; the rollback then still runs (unless Keep), so staging is left
// as it was.
func (r *Rehearsal) rehearsePhases(ctx context.Context) {
	m := r.d.Migrator
	ok := true
	for _, p := range []struct {
		name string
		run  func(context.Context, planner.Target) error
	}{{"prepare", r.prepare}, {"backfill", m.Backfill}, {"cutover", m.Cutover}} {
		if ok = r.phase(ctx, p.name, p.run); !ok {
			break
		}
	}
	switch {
	case ctx.Err() != nil:
		t := r.cfg.Target
		r.note("interrupted: the migration is left where it stopped; run pgwiden rollback --schema %s --table %s --column %s to undo it", t.Table.Schema, t.Table.Name, t.Column)
	case r.cfg.Keep && !ok:
		r.note("--keep: the failed migration is left where it stopped; pgwiden rollback undoes it")
	case r.cfg.Keep:
		r.note("--keep: the columns stay bigint and the migration cut over; run pgwiden cleanup to finish it, or pgwiden rollback to undo it")
	default:
		r.phase(ctx, "rollback", m.Rollback)
	}
}

// prepare records the plan Check made and checked, not a second one.
func (r *Rehearsal) prepare(ctx context.Context, _ planner.Target) error {
	return r.d.Migrator.PrepareWith(ctx, r.plan)
}

// phase runs one phase and measures it: duration, WAL, sizes after.
func (r *Rehearsal) phase(ctx context.Context, name string, run func(context.Context, planner.Target) error) bool {
	r.d.Log.Info().Str("phase", name).Msg("rehearse: phase starts")
	r.capture.setPhase(name)
	if r.load != nil {
		r.load.Enter(name)
	}
	start := time.Now()
	err := run(ctx, r.cfg.Target)
	pr := PhaseResult{Name: name, StartedAt: start.UTC(), Seconds: time.Since(start).Seconds(), OK: err == nil}
	if err != nil {
		pr.Error = err.Error()
		r.problem("%s failed: %v", name, err)
	}
	if ctx.Err() == nil {
		r.measurePhase(ctx, &pr)
	}
	r.rep.Phases = append(r.rep.Phases, pr)
	r.d.Log.Info().Str("phase", name).Float64("took_s", math.Round(pr.Seconds*1000)/1000).Bool("ok", pr.OK).Msg("rehearse: phase done")
	return err == nil
}

// measurePhase reads the WAL written and the sizes after a phase; a
// failure is noted, not fatal.
func (r *Rehearsal) measurePhase(ctx context.Context, pr *PhaseResult) {
	if r.lsn != "" {
		n, lsn, err := walSince(ctx, r.d.Pool, r.lsn)
		if err != nil {
			r.note("WAL after %s: %v", pr.Name, err)
		} else {
			pr.WALBytes, r.lsn = &n, lsn
		}
	}
	sizes, err := readSizes(ctx, r.d.Pool, closureTables(r.plan))
	if err != nil {
		r.note("sizes after %s: %v", pr.Name, err)
		return
	}
	pr.Sizes, pr.TotalBytes = sizes, totalBytes(sizes)
}

// startLoad starts the loads and lets them run alone for the baseline.
func (r *Rehearsal) startLoad(ctx context.Context) {
	if len(r.cfg.Loads) == 0 || r.d.LoadPool == nil {
		return
	}
	r.load = startLoads(ctx, r.d.LoadPool, r.cfg.Loads, "baseline")
	r.d.Log.Info().Dur("baseline", r.cfg.LoadBaseline).Msg("rehearse: load started, measuring its baseline")
	select {
	case <-ctx.Done():
	case <-time.After(r.cfg.LoadBaseline):
	}
}

// finalPhase records where the rehearsal left its migration.
func (r *Rehearsal) finalPhase(ctx context.Context) error {
	job, err := r.d.Store.Last(ctx, r.cfg.Target)
	if err != nil || job == nil {
		return err
	}
	r.rep.Migration, r.rep.FinalPhase = job.ID, string(job.Phase)
	if r.done, err = r.d.Store.DoneSteps(ctx, job.ID); err != nil {
		return err
	}
	want := state.PhaseRolledBack
	if r.cfg.Keep {
		want = state.PhaseCutOver
	}
	if job.Phase != want && len(r.rep.Problems) == 0 {
		return fmt.Errorf("migration %d is %s, want %s", job.ID, job.Phase, want)
	}
	return nil
}

// problem records something that makes the rehearsal fail.
func (r *Rehearsal) problem(format string, args ...any) {
	r.rep.Problems = append(r.rep.Problems, fmt.Sprintf(format, args...))
}

// note records something the reader should know that is not a failure.
func (r *Rehearsal) note(format string, args ...any) {
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf(format, args...))
}

// walkRecorder keeps the last progress snapshot of every batched step.
type walkRecorder struct {
	mu    sync.Mutex
	last  map[string]migrator.Progress
	order []string
}

func (w *walkRecorder) record(p migrator.Progress) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.last[p.Step]; !ok {
		w.order = append(w.order, p.Step)
	}
	w.last[p.Step] = p
}

// finals returns the last snapshot of every step of phase ph (and of
// kind, unless ""), in the order the steps ran.
func (w *walkRecorder) finals(ph planner.Phase, kind string) []migrator.Progress {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []migrator.Progress
	for _, s := range w.order {
		if id := planner.StepID(s); id.Phase() == ph && (kind == "" || id.Kind() == kind) {
			out = append(out, w.last[s])
		}
	}
	return out
}

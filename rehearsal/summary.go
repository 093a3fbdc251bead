package rehearsal

import (
	"fmt"
	"slices"
	"time"

	"github.com/pgwiden/pgwiden/internal/format"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/throttle"
)

// summarize fills the report's sections from what the phases recorded.
func (r *Rehearsal) summarize() {
	steps := r.capture.Steps()
	for i := range r.rep.Phases {
		for _, s := range steps {
			if s.Phase == r.rep.Phases[i].Name {
				r.rep.Phases[i].Steps = append(r.rep.Phases[i].Steps, s)
			}
		}
	}
	r.rep.Backfill = r.walkSummary(planner.Backfill, "", "backfill")
	r.verification()
	r.locks(steps)
	r.disk()
	r.wal()
	r.warnings()
}

// phaseResult returns the phase named name, nil when it did not run.
func (r *Rehearsal) phaseResult(name string) *PhaseResult {
	for i := range r.rep.Phases {
		if r.rep.Phases[i].Name == name {
			return &r.rep.Phases[i]
		}
	}
	return nil
}

// walkSummary adds up the batched steps of phase ph (and kind, unless
// ""); their rate is over the whole phase's duration.
func (r *Rehearsal) walkSummary(ph planner.Phase, kind, phase string) WalkSummary {
	var w WalkSummary
	for _, p := range r.walks.finals(ph, kind) {
		t := WalkTable{Step: p.Step, Table: p.Table, Rows: p.Scanned, Copied: p.Copied, Batches: p.Batches,
			Seconds: p.Elapsed.Seconds(), RowsPerS: p.Rate(), Done: p.Done}
		w.Tables = append(w.Tables, t)
		w.Rows += p.Scanned
		w.Copied += p.Copied
	}
	if pr := r.phaseResult(phase); pr != nil {
		w.Seconds = pr.Seconds
		if w.Seconds > 0 {
			w.RowsPerS = float64(w.Rows) / w.Seconds
		}
	}
	return w
}

// verification reports the cutover's verification: it passed when every
// verify step is recorded as done (a verification that finds differing
// rows is not), whatever happened after it.
func (r *Rehearsal) verification() {
	v := &r.rep.Verification
	v.Walk = r.walkSummary(planner.Cutover, "verify", "cutover")
	v.Passed = true
	for _, s := range r.plan.Steps {
		if s.Phase == planner.Cutover && s.Batch != nil && !r.done[s.ID] {
			v.Passed = false
		}
	}
	pr := r.phaseResult("cutover")
	switch {
	case pr == nil:
		v.Passed, v.Detail = false, "not reached: the cutover did not run"
	case !v.Passed:
		v.Detail = "did not pass: " + pr.Error
	default:
		v.Detail = fmt.Sprintf("passed: every shadow value equals its column (%s rows in %d tables or partitions compared)", format.Count(float64(v.Walk.Rows)), len(v.Walk.Tables))
	}
	if fits := r.walkSummary(planner.Unswap, "verify", "rollback"); len(fits.Tables) > 0 {
		v.RollbackFits = &fits
	}
}

// blocking are the lock modes that block the application's writes, in
// the order the report lists them.
var blocking = []string{string(planner.AccessExclusive), "EXCLUSIVE", string(planner.ShareRowExclusive), string(planner.Share)}

// locks lists the steps that blocked writes, the longest of each mode,
// and the swaps.
func (r *Rehearsal) locks(steps []StepTiming) {
	l := &r.rep.Locks
	longest := map[string]StepTiming{}
	for _, s := range steps {
		if !slices.Contains(blocking, s.Lock) {
			continue
		}
		l.Steps = append(l.Steps, s)
		if s.TookMS > longest[s.Lock].TookMS {
			longest[s.Lock] = s
		}
	}
	for _, mode := range blocking {
		if s, ok := longest[mode]; ok {
			l.Longest = append(l.Longest, s)
		}
	}
	if sw := r.d.Migrator.LastSwap; sw.Attempts > 0 {
		l.Swap = &Swap{Attempts: sw.Attempts, HeldMS: ms(sw.Held)}
	}
	if sb, ok := r.capture.Swap("swap back"); ok {
		l.SwapBack = &sb
	}
}

// disk compares the closure's size before prepare with its peak.
func (r *Rehearsal) disk() {
	d := &r.rep.Disk
	d.Before, d.BeforeBytes, d.PlanEstimate = r.sizes0, totalBytes(r.sizes0), r.plan.Estimates.ExtraBytes
	d.PeakBytes, d.PeakAfter = d.BeforeBytes, "start"
	for _, p := range r.rep.Phases {
		if p.Sizes != nil && p.TotalBytes > d.PeakBytes {
			d.PeakBytes, d.PeakAfter = p.TotalBytes, p.Name
		}
	}
	d.ExtraBytes = d.PeakBytes - d.BeforeBytes
}

// wal adds up the phases' WAL when every phase has a figure.
func (r *Rehearsal) wal() {
	var n int64
	for _, p := range r.rep.Phases {
		if p.WALBytes == nil {
			return
		}
		n += *p.WALBytes
	}
	r.rep.WALBytes = &n
}

// warnings gathers the plan's warnings, the migrator's and the loads'
// errors.
func (r *Rehearsal) warnings() {
	var ws []Warning
	for _, f := range r.plan.Warnings {
		detail := f.Detail
		if f.Fix != "" {
			detail += "; fix: " + f.Fix
		}
		ws = append(ws, Warning{Phase: "plan", Source: "plan", Message: f.Code + ": " + f.Object, Detail: detail})
	}
	ws = append(ws, r.capture.Warnings()...)
	for _, l := range r.rep.Load {
		for _, p := range l.Phases {
			for _, e := range p.ErrorSamples {
				ws = append(ws, Warning{Phase: p.Phase, Source: "load", Level: "error", Message: l.Name + " load: " + e})
			}
		}
	}
	r.rep.Warnings = ws
}

// extrapolate scales the rehearsal to production, when told its size.
func (r *Rehearsal) extrapolate() {
	staging := r.stagingSizes()
	var prod map[string]Size
	var source string
	switch {
	case r.prod != nil:
		prod = sizeMap(r.prod)
		source = fmt.Sprintf("catalog statistics of production database %q, read-only (pg_class.reltuples as of its last ANALYZE, pg_total_relation_size)", r.rep.Production.Database)
	case r.cfg.ProductionRows > 0:
		var err error
		if prod, err = ScaleRows(staging, r.cfg.Target.Table.String(), r.cfg.ProductionRows); err != nil {
			r.note("no extrapolation: %v", err)
			return
		}
		source = fmt.Sprintf("--production-rows %.0f: %s has that many rows, and every table of the closure grows by the same factor", r.cfg.ProductionRows, r.cfg.Target.Table)
	default:
		return
	}
	var order []string
	for _, q := range closureTables(r.plan) {
		order = append(order, q.String())
	}
	in := Input{Source: source, Tables: order, Staging: staging, Production: prod, ExtraDiskBytes: r.rep.Disk.ExtraBytes, Work: r.work()}
	if r.rep.WALBytes != nil {
		in.WALBytes = *r.rep.WALBytes
	}
	for _, p := range r.rep.Phases {
		in.Phases = append(in.Phases, PhaseTime{Name: p.Name, Took: time.Duration(p.Seconds * float64(time.Second))})
	}
	r.rep.Extrapolation = Extrapolate(in)
}

// stagingSizes are the closure's sizes before prepare, with the rows the
// backfill actually walked in place of the statistics' estimate.
func (r *Rehearsal) stagingSizes() map[string]Size {
	m := sizeMap(r.sizes0)
	walked := map[string]int64{}
	for _, p := range r.walks.finals(planner.Backfill, "") {
		walked[r.closure[p.Table]] += p.Scanned
	}
	for name, n := range walked {
		if s, ok := m[name]; ok && n > 0 {
			s.Rows, s.RowsKnown = float64(n), true
			m[name] = s
		}
	}
	return m
}

// work lists what each phase did, attributed to closure tables: the
// batched walks and the steps the migrator reported.
func (r *Rehearsal) work() []Work {
	var out []Work
	for _, ph := range []planner.Phase{planner.Backfill, planner.Cutover, planner.Unswap} {
		phase := string(ph)
		if ph == planner.Unswap {
			phase = "rollback"
		}
		for _, p := range r.walks.finals(ph, "") {
			out = append(out, Work{Phase: phase, Step: p.Step, Table: r.closure[p.Table], Kind: ByRows, Took: p.Elapsed})
		}
	}
	steps := map[string]planner.Step{}
	for _, s := range r.plan.Steps {
		steps[s.ID] = s
	}
	for _, s := range r.capture.Steps() {
		ps := steps[s.Step]
		out = append(out, Work{Phase: s.Phase, Step: s.Step, Table: r.closure[ps.Table.String()], Kind: KindOf(ps),
			Took: time.Duration(s.TookMS * float64(time.Millisecond))})
	}
	return out
}

// settingsOf shows the engine's configuration in the report.
func settingsOf(c migrator.Config, p throttle.Config) Settings {
	return Settings{BatchSize: p.StartBatch, MaxRate: p.MaxRate, LockTimeout: c.LockTimeout.String(),
		ScanLockTimeout: c.ScanLockTimeout.String(), StatementTimeout: c.StatementTimeout.String(), SwapAttempts: c.SwapAttempts}
}

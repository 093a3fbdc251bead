package migrator

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// tableWalk is the walk of one table's parts (slices) by up to
// Config.Workers workers at once, each on its own connection, taking the
// next part when it finishes one. What they share is guarded by mu: the
// table's progress (one Progress for the table, the sum of its parts),
// the VACUUM pacing, which counts the sum too, and the governor, which
// with several workers is shared (throttle.Shared): they take turns to
// ask it, so a hold holds them all and its rate is the rate of the sum.
type tableWalk struct {
	r         *run
	s         planner.Step
	do        batchFunc
	gov       Governor
	workers   int
	vacuum    planner.Step
	hasVacuum bool

	// gate lets the workers' batches run together (read-locked), and a
	// VACUUM of the table alone (write-locked): see vacuumTable.
	gate sync.RWMutex

	mu      sync.Mutex
	p       Progress
	started int // batches begun, for Hooks.BeforeBatch
	left    int // parts not done yet
	pace    vacuumPace
	// vacuuming is set while one worker vacuums the table; again asks it
	// for one more pass when it ends: never two at once on one table.
	vacuuming, again bool
}

// newTableWalk prepares the walk of step s's parts left; task is its
// checkpoint (its rows done count towards the progress).
func newTableWalk(r *run, s planner.Step, do batchFunc, task *state.Task, parts int) *tableWalk {
	w := &tableWalk{r: r, s: s, do: do, gov: r.m.gov, workers: min(max(r.m.cfg.Workers, 1), parts), left: parts,
		pace: newVacuumPace(r.m.cfg, s),
		p:    Progress{Step: s.ID, Table: s.Table.String(), Estimate: s.Batch.Estimate, Copied: task.RowsDone, Started: time.Now()}}
	if w.workers > 1 {
		w.gov = throttle.NewShared(r.m.gov, nil, w.workers)
	}
	w.vacuum, w.hasVacuum = r.vacuumStep(s) // looked up once, not per batch
	return w
}

// run walks the parts and returns the first error of any worker, which
// stops the others between two batches.
func (w *tableWalk) run(ctx context.Context, parts []part) error {
	if w.workers <= 1 {
		for _, pt := range parts {
			if err := w.walkPart(ctx, pt); err != nil {
				return err
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.workers)
	for _, pt := range parts {
		g.Go(func() error { return w.walkPart(gctx, pt) })
	}
	return g.Wait()
}

// walkPart runs the batches of one part from its checkpoint to its end.
func (w *tableWalk) walkPart(ctx context.Context, pt part) error {
	r, s := w.r, w.s
	var last throttle.BatchOutcome
	for {
		if err := ctx.Err(); err != nil {
			return err // Ctrl-C, or another worker failed: stop between batches
		}
		// next waits as the governor says (throttle.go); a hold by a
		// signal or by pgwiden pause waits here, between two batches.
		d, err := r.next(ctx, w.gov, w.progress(), last)
		if err != nil {
			return err
		}
		batch := w.begin()
		if h := r.m.hooks.BeforeBatch; h != nil {
			if err := h(ctx, s.ID, batch); err != nil {
				return err
			}
		}
		start := time.Now()
		// The batch runs to its end even if Ctrl-C comes meanwhile: a
		// short transaction, and the stop happens cleanly after it.
		w.gate.RLock()
		res, err := r.batch(context.WithoutCancel(ctx), s, pt, d.Rows, w.do)
		w.gate.RUnlock()
		last = throttle.BatchOutcome{Rows: int(res.scanned), Took: time.Since(start), Err: err}
		if err != nil {
			return err
		}
		if w.record(res) {
			w.vacuumTable(ctx) // outside the batch's transaction, which has committed
		}
		if res.done {
			return nil
		}
		pt.cursor = res.bound
	}
}

// progress is the table's progress now.
func (w *tableWalk) progress() Progress {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.p
}

// begin counts a batch that begins and returns its number in the walk.
func (w *tableWalk) begin() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started++
	return w.started
}

// record adds a committed batch to the table's progress and reports it;
// it says whether a VACUUM of the table is due.
func (w *tableWalk) record(res batchResult) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := &w.p
	p.Batches, p.Scanned, p.Copied, p.Elapsed = p.Batches+1, p.Scanned+res.scanned, p.Copied+res.changed, time.Since(p.Started)
	p.Throttled, p.Held = w.r.throttleState(), false // the batch ran: nothing holds it now
	if res.done {
		w.left--
	}
	p.Done = w.left == 0
	w.r.report(*p)
	return w.hasVacuum && w.pace.due(p.Batches, p.Scanned, p.Done)
}

// vacuumTable runs the VACUUM that is due, unless another worker is
// running one: that one then runs once more when it ends, so a VACUUM
// that began before this stretch was walked does not stand for it.
//
// The VACUUM runs alone: it waits for the batches under way to commit
// (their old row versions then become removable) and no batch begins
// until it ends, as with one worker, whose walk runs it between two
// batches. The space a VACUUM frees can only be found by new row versions
// once it has ended (it updates the free space map's upper levels last):
// batches that ran meanwhile would append their rows to the table's end,
// and with three workers the table grew by 1.35-1.43x instead of 1.28x at
// --vacuum-fraction 0.2 (TestBackfillVacuumFractionWorkers).
func (w *tableWalk) vacuumTable(ctx context.Context) {
	w.mu.Lock()
	if w.vacuuming {
		w.again = true
		w.mu.Unlock()
		return
	}
	w.vacuuming = true
	w.mu.Unlock()
	for {
		w.gate.Lock()
		w.r.vacuum(ctx, w.vacuum)
		w.gate.Unlock()
		w.mu.Lock()
		if !w.again || ctx.Err() != nil {
			w.vacuuming, w.again = false, false
			w.mu.Unlock()
			return
		}
		w.again = false
		w.mu.Unlock()
	}
}

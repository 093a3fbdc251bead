package migrator

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/throttle"
)

// Snapshotter is a Governor that can say at any moment what it decided
// last, held or not and why: *throttle.Controller is one. While a walk
// waits in Next (a signal holds it, or the rate limit), the migrator reads
// it so that a hold is shown and recorded when it begins, not when it ends.
type Snapshotter interface {
	Snapshot() throttle.Decision
}

// watchEvery is how often the migrator reads a Snapshotter while Next
// waits. Reading it costs a mutex, not a query.
const watchEvery = 100 * time.Millisecond

// next asks the governor for the next batch and returns once the batch
// may run. The wait happens inside the governor's Next, under ctx: Ctrl-C
// ends it at once, and nothing has run since the last committed batch. p
// is the walk's progress, shown with the reason during a hold.
//
// A decision Next returns describes the wait just done (throttle.Next):
// Held says a hold was part of it, and it is over. What is recorded then
// is the state the batch runs in: the rate's reason, or nothing.
func (r *run) next(ctx context.Context, gov Governor, p Progress, last throttle.BatchOutcome) (throttle.Decision, error) {
	d, err := r.nextWatched(ctx, gov, p, last)
	if err != nil {
		return d, err
	}
	now := d
	if d.Held {
		now = throttle.Decision{Rows: d.Rows}
	}
	r.noteThrottle(ctx, p, now)
	if d.Rows <= 0 { // a governor without a size of its own
		d.Rows = throttle.DefaultConfig().StartBatch
	}
	return d, nil
}

// nextWatched is gov.Next with, for a Snapshotter, a watcher that reads
// its state while Next waits. The watcher ends before nextWatched returns.
// With several workers, each has its watcher: r.mu guards r.throttled
// and emit makes the events one at a time.
func (r *run) nextWatched(ctx context.Context, gov Governor, p Progress, last throttle.BatchOutcome) (throttle.Decision, error) {
	snap, ok := gov.(Snapshotter)
	if !ok {
		return gov.Next(ctx, last)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(watchEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if d := snap.Snapshot(); d.Held {
					r.noteThrottle(ctx, p, d)
					r.reportHeld(p, d)
				}
			}
		}
	}()
	d, err := gov.Next(ctx, last)
	close(done)
	wg.Wait()
	return d, err
}

// throttleText is how a governor's decision reads in progress, logs and
// status: "paused: <reason>" while a signal holds the walk, the reason of
// a shorter wait ("max rate 500 rows/s"), or "" when it did not wait.
func throttleText(d throttle.Decision) string {
	if d.Held {
		return "paused: " + d.Reason
	}
	return d.Reason
}

// noteThrottle takes the governor's last decision and, when its text
// (throttleText) changed, records it in pgwiden.migrations for pgwiden
// status. Recording is best effort: status is worth less than the walk.
func (r *run) noteThrottle(ctx context.Context, p Progress, d throttle.Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reason := throttleText(d)
	if reason == r.throttled {
		return
	}
	// Debug: a throttle.Controller logs each change itself, once.
	r.log.Debug().Str("step", p.Step).Str("throttled", reason).Str("was", r.throttled).Msg("throttle state")
	r.throttled = reason
	emit(r.m, onHold, Hold{Step: p.Step, Table: p.Table, Reason: reason, Held: d.Held})
	if err := r.m.st.SetThrottled(context.WithoutCancel(ctx), r.job.ID, reason); err != nil {
		r.log.Warn().Err(err).Msg("record the throttle state in pgwiden.migrations")
	}
}

// throttleState is the throttle state last recorded, from any worker.
func (r *run) throttleState() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.throttled
}

// reportHeld sends the walk's progress with the hold's reason, so that
// the bar says why it stopped and, without a terminal, the periodic
// progress line goes on during a long hold.
func (r *run) reportHeld(p Progress, d throttle.Decision) {
	p.Throttled, p.Held, p.Elapsed = throttleText(d), true, time.Since(p.Started)
	r.report(p)
}

// clearThrottle records, as a walk ends for whatever reason, that nothing
// throttles this job any more: status must not show a stale hold.
func (r *run) clearThrottle(ctx context.Context, s planner.Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.throttled == "" {
		return
	}
	r.throttled = ""
	emit(r.m, onHold, Hold{Step: s.ID, Table: s.Table.String()})
	if err := r.m.st.SetThrottled(context.WithoutCancel(ctx), r.job.ID, ""); err != nil {
		r.log.Warn().Err(err).Msg("clear the throttle state in pgwiden.migrations")
	}
}

// vacuumStep returns the planned VACUUM of the walk s (planner.Step.During;
// only the backfill's copy has one, as only it leaves dead row versions
// behind); vacuumPace says when it runs.
func (r *run) vacuumStep(s planner.Step) (planner.Step, bool) {
	for _, c := range r.companions(s.ID) {
		if c.Probe == "" {
			return c, true
		}
	}
	return planner.Step{}, false
}

// vacuum runs a plain VACUUM of the step's table between two batches. The
// copy leaves one dead row version per row it changes; on a table that
// autovacuum does not keep up with they bloat the table and its indexes,
// and slow the application's scans. VACUUM cannot run in a transaction
// block, so it never runs in a batch's: it runs on a pooled connection of
// its own, with lock_timeout on the session (reset before the connection
// goes back) and no statement_timeout. Its SHARE UPDATE EXCLUSIVE lock
// blocks no reads or writes but conflicts with an autovacuum of the same
// table: lock_timeout then gives up, which is fine, as the autovacuum does
// the same work. A failure is logged, never fatal to the walk. v is the
// planned step (planner.Step.During), shown by plan and --dry-run.
func (r *run) vacuum(ctx context.Context, v planner.Step) {
	start := time.Now()
	err := r.onSession(ctx, r.m.cfg.LockTimeout, 0, func(conn *pgxpool.Conn) error {
		_, err := conn.Exec(ctx, annotate(v))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			r.warn(Warning{Step: v.ID, Object: v.Table.String(), Err: err, Message: "vacuum between batches failed; the walk goes on"})
		}
		return
	}
	r.log.Debug().Str("table", v.Table.String()).Dur("took", time.Since(start)).Msg("vacuumed between batches")
}

// WalkedTables returns the quoted names of the tables a job's batched
// steps walk (the backfill's copy, the verifications), in plan order and
// without repeats: the tables the throttle's lock-waiter and dead-tuple
// signals watch.
func WalkedTables(p *planner.Plan) []string {
	var out []string
	seen := map[catalog.QName]bool{}
	for _, s := range p.Steps {
		if s.Batch != nil && !seen[s.Table] {
			seen[s.Table] = true
			out = append(out, s.Table.Quoted())
		}
	}
	return out
}

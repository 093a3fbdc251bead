package migrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Backfill copies old to shadow for the rows that existed before prepare,
// table by table, in keyset batches. Each batch is one short transaction
// that also commits its checkpoint: killed at any instant, the next run
// resumes after the last committed batch, with nothing skipped and
// nothing done twice. Ctrl-C (ctx) stops it between batches. After a lost
// connection it reconnects and resumes (reconnect.go).
func (m *Migrator) Backfill(ctx context.Context, t planner.Target) error {
	return m.resilient(ctx, planner.Backfill, t, m.backfill)
}

func (m *Migrator) backfill(ctx context.Context, t planner.Target) error {
	r, err := m.open(ctx, t, false)
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if r.job == nil {
		return m.finished(ctx, t, "backfill")
	}
	if err := r.require(t, state.PhasePrepared, state.PhaseBackfilling); err != nil {
		return alreadyPast(r, err, "backfill")
	}
	if err := r.checkTriggerRights(ctx); err != nil {
		return err
	}
	if err := r.preflight(ctx, planner.Backfill, planner.Backfill); err != nil {
		return err
	}
	if err := r.setPhase(ctx, state.PhaseBackfilling); err != nil {
		return err
	}
	r.compressWAL = r.walCompressible(ctx)
	for _, s := range r.steps(planner.Backfill) {
		if err := r.walk(ctx, s, r.copyBatch); err != nil {
			return r.fail(ctx, fmt.Errorf("backfill %s: %w", s.Table, err))
		}
	}
	return r.setPhase(ctx, state.PhaseBackfilled)
}

// alreadyPast turns "this phase is behind us" into a no-op that says so,
// and passes any other phase-order error on.
func alreadyPast(r *run, err error, phase string) error {
	var pe *PhaseOrderError
	if errors.As(err, &pe) && r.job != nil && past(r.job.Phase, phase) {
		r.log.Info().Str("phase", string(r.job.Phase)).Msg(phase + " is already done")
		return nil
	}
	return err
}

// past reports whether phase p comes after the command phase.
func past(p state.Phase, phase string) bool {
	order := map[state.Phase]int{state.PhasePreparing: 0, state.PhasePrepared: 1, state.PhaseBackfilling: 1,
		state.PhaseBackfilled: 2, state.PhaseCuttingOver: 2, state.PhaseCutOver: 3, state.PhaseCleaningUp: 3, state.PhaseDone: 4}
	need := map[string]int{"prepare": 1, "backfill": 2, "cutover": 3, "cleanup": 4}
	n, ok := order[p]
	return ok && n >= need[phase]
}

// checkTriggerRights refuses --disable-user-triggers without superuser:
// session_replication_role is superuser-only.
func (r *run) checkTriggerRights(ctx context.Context) error {
	if !r.m.cfg.DisableUserTriggers {
		return nil
	}
	var super bool
	if err := r.m.pool.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return err
	}
	if !super {
		return fmt.Errorf("backfill %s: --disable-user-triggers needs a superuser (it sets session_replication_role): run without it and let the triggers fire, or disable them yourself", r.job.Target)
	}
	return nil
}

// batchFunc runs one batch inside tx and reports the rows it changed.
type batchFunc func(ctx context.Context, tx pgx.Tx, s planner.Step, stmt string, args []any) (int64, error)

// walk runs a batched step from its checkpoint to the end of the table:
// as one walk, or in slices by several workers (Config.Workers,
// tableWalk), each slice resuming from its own checkpoint.
func (r *run) walk(ctx context.Context, s planner.Step, do batchFunc) error {
	stop, err := lastKey(ctx, r.m.pool, tag(s.ID+" last", s.Batch.Last), len(s.Batch.Key))
	if err != nil {
		return err
	}
	task, err := r.m.st.EnsureTask(ctx, r.job.ID, s.ID, s.Table.String(), s.Batch.Estimate, stop)
	if err != nil || task.Done {
		return err
	}
	if task.Stop == nil { // the table was empty when the walk began
		return r.m.st.FinishTask(ctx, r.m.pool, r.job.ID, s.ID)
	}
	parts, sliced, err := r.parts(ctx, s, task)
	if err != nil {
		return err
	}
	defer r.clearThrottle(ctx, s)
	if err := newTableWalk(r, s, do, task, len(parts)).run(ctx, parts); err != nil {
		return err
	}
	if sliced { // each slice finished in its last batch; now the task
		return r.m.st.FinishTask(ctx, r.m.pool, r.job.ID, s.ID)
	}
	return nil
}

type batchResult struct {
	bound            []string
	scanned, changed int64
	done             bool
}

// batch runs one batch of part pt: find the batch's last key, run the
// statement on (cursor, bound], record bound as the checkpoint, commit. A
// backfill batch runs in passes (Config.HotPasses), each one transaction
// retried on its own; the checkpoint commits with the last.
func (r *run) batch(ctx context.Context, s planner.Step, pt part, size int, do batchFunc) (batchResult, error) {
	var res batchResult
	passes := r.passes(s)
	for pass := range passes {
		var changed int64
		err := r.retry(ctx, r.m.cfg.Retry, s.ID+" batch", func(ctx context.Context, _ int) error {
			err := pgx.BeginFunc(ctx, r.m.pool, func(tx pgx.Tx) error {
				var err error
				changed, err = r.batchTx(ctx, tx, s, pt, size, do, batchPass{n: pass, of: passes}, &res)
				return err
			})
			if err != nil && r.m.cfg.AsyncCommit && pgerr.ConnectionLost(err) {
				// With asynchronous commits a batch reported committed may have
				// been lost with the server (a crash, an immediate restart), and
				// its checkpoint with it: cursor is then ahead of the database.
				// Not retried here: the phase stops, and run again (reconnect)
				// resumes from the checkpoint the database holds.
				return pgerr.NoRetry(err)
			}
			return err
		})
		if err != nil || res.done {
			return res, err
		}
		res.changed += changed
	}
	return res, nil
}

// batchPass is pass n of a batch copied in of passes.
type batchPass struct{ n, of int }

func (p batchPass) last() bool { return p.n == p.of-1 }

// passes is how many passes a batch of s takes: Config.HotPasses for the
// backfill's copy, 1 for a verification and for a plan recorded before
// passes existed.
func (r *run) passes(s planner.Step) int {
	if s.Phase != planner.Backfill || s.Batch.NextPass == "" {
		return 1
	}
	return max(r.m.cfg.HotPasses, 1)
}

// batchTx runs pass p of a batch in tx and returns the rows it changed.
// The first pass finds the batch's bound and records it in res; the last
// records it as the checkpoint.
func (r *run) batchTx(ctx context.Context, tx pgx.Tx, s planner.Step, pt part, size int, do batchFunc, p batchPass, res *batchResult) (int64, error) {
	if err := r.batchSettings(ctx, tx, s); err != nil {
		return 0, err
	}
	boundSQL, stmt, args := s.Batch.FirstBound, s.Batch.First, []any{}
	if pt.cursor != nil {
		boundSQL, stmt, args = s.Batch.NextBound, s.Batch.Next, anys(pt.cursor)
	}
	if p.n == 0 {
		boundArgs := append(append(append([]any{}, args...), anys(pt.stop)...), size)
		bound, n, err := readBound(ctx, tx, tag(s.ID+" bound", boundSQL), boundArgs, len(s.Batch.Key))
		if err != nil {
			return 0, err
		}
		if bound == nil {
			*res = batchResult{done: true}
			return 0, r.finishPart(ctx, tx, s, pt)
		}
		*res = batchResult{bound: bound, scanned: n}
	}
	args = append(args, anys(res.bound)...)
	if p.of > 1 {
		stmt = s.Batch.FirstPass
		if pt.cursor != nil {
			stmt = s.Batch.NextPass
		}
		args = append(args, p.of, p.n)
	}
	changed, err := do(ctx, tx, s, tag(s.ID, stmt), args)
	if err != nil {
		return changed, err
	}
	// Every pass counts its rows with them; only the last moves the
	// cursor. Interrupted between two passes, the walk redoes the batch and
	// skips the rows the first passes copied, which are counted already.
	cursor := pt.cursor
	if p.last() {
		cursor = res.bound
	}
	return changed, r.advancePart(ctx, tx, s, pt, cursor, changed)
}

// batchSettings sets what every transaction of a walk runs with, in one
// round trip: a batch of several passes opens several transactions.
func (r *run) batchSettings(ctx context.Context, tx pgx.Tx, s planner.Step) error {
	q := setTimeoutsSQL
	if r.m.cfg.AsyncCommit {
		// Config.AsyncCommit: the checkpoint is lost with the batch.
		q += ", set_config('synchronous_commit', 'off', true)"
	}
	if s.Phase == planner.Backfill && r.compressWAL {
		q += ", " + compressWALExpr
	}
	if s.Phase == planner.Backfill && r.m.cfg.DisableUserTriggers {
		q += ", set_config('session_replication_role', 'replica', true)"
	}
	_, err := tx.Exec(ctx, q, ms(r.m.cfg.LockTimeout), ms(r.m.cfg.StatementTimeout))
	return err
}

// readBound reads the last key of the next batch (as text) and the batch's
// row count; a nil bound means the table is done.
//
// The query runs as an unnamed statement, never from pgx's statement
// cache: its text is the same for the backfill, the cutover's verification
// and the rollback's, but the swap changes the key's type in between. A
// statement prepared before the swap keeps its int4 parameter, and a
// Migrator that runs the cutover and then a rollback on one pool would
// fail with "value out of range for type integer" on the first key beyond
// int4, instead of reporting it.
func readBound(ctx context.Context, tx pgx.Tx, sql string, args []any, keys int) ([]string, int64, error) {
	rows, err := tx.Query(ctx, sql, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, 0, rows.Err()
	}
	bound := make([]string, keys)
	dest := make([]any, keys+1)
	for i := range bound {
		dest[i] = &bound[i]
	}
	var n int64
	dest[keys] = &n
	if err := rows.Scan(dest...); err != nil {
		return nil, 0, err
	}
	return bound, n, rows.Err()
}

// lastKey reads the table's last key as text, nil when it is empty.
func lastKey(ctx context.Context, pool *pgxpool.Pool, sql string, keys int) ([]string, error) {
	key := make([]string, keys)
	dest := make([]any, keys)
	for i := range key {
		dest[i] = &key[i]
	}
	err := pool.QueryRow(ctx, sql, pgx.QueryExecModeDescribeExec).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return key, err
}

// copyBatch is the backfill's batch: the UPDATE itself.
func (r *run) copyBatch(ctx context.Context, tx pgx.Tx, s planner.Step, stmt string, args []any) (int64, error) {
	ct, err := tx.Exec(ctx, stmt, args...)
	return ct.RowsAffected(), err
}

func (r *run) report(p Progress) { emit(r.m, onProgress, p) }

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

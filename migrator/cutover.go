package migrator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Cutover verifies the backfill, builds the new indexes and constraints
// without blocking writes, then swaps the columns in one short transaction
// (swap.go). Everything before the swap can be interrupted and re-run; the
// swap commits entirely or not at all. After a lost connection it
// reconnects and resumes (reconnect.go).
func (m *Migrator) Cutover(ctx context.Context, t planner.Target) error {
	return m.resilient(ctx, planner.Cutover, t, m.cutoverPhase)
}

func (m *Migrator) cutoverPhase(ctx context.Context, t planner.Target) error {
	r, err := m.open(ctx, t, false)
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if r.job == nil {
		return m.finished(ctx, t, "cutover")
	}
	if err := r.require(t, state.PhaseBackfilled, state.PhaseCuttingOver); err != nil {
		return alreadyPast(r, err, "cutover")
	}
	if err := r.checkDrift(ctx, planner.Cutover); err != nil {
		return r.fail(ctx, fmt.Errorf("cutover %s: %w", t, err))
	}
	if err := r.preflight(ctx, planner.Cutover, planner.Cutover); err != nil {
		return err
	}
	if err := r.setPhase(ctx, state.PhaseCuttingOver); err != nil {
		return err
	}
	if err := r.cutover(ctx); err != nil {
		return r.fail(ctx, fmt.Errorf("cutover %s: %w", t, err))
	}
	return nil
}

func (r *run) cutover(ctx context.Context) error {
	swapped := false
	for _, s := range r.steps(planner.Cutover) {
		var err error
		switch {
		case s.Batch != nil:
			err = r.verify(ctx, s)
			var d *differError
			if errors.As(err, &d) {
				err = errors.Join(err, r.backToBackfill(ctx, s.ID))
			}
		case s.ID == swapID:
			if err = r.beforeSwap(ctx); err == nil {
				err = r.swap(ctx, s)
			}
			swapped = true
		default:
			err = r.step(ctx, s)
		}
		if err != nil {
			return err
		}
	}
	if !swapped {
		return errors.New("the recorded plan has no swap step")
	}
	return r.setPhase(ctx, state.PhaseCutOver)
}

const swapID = "cutover/swap"

// verify walks a table counting rows whose shadow differs from the old
// column. The trigger and the backfill make that impossible; a difference
// means something bypassed them (a trigger disabled, replication_role
// replica writes), and swapping would lose those values.
func (r *run) verify(ctx context.Context, s planner.Step) error {
	if r.done[s.ID] {
		return nil
	}
	var differ atomic.Int64 // summed by every worker of the walk
	count := func(ctx context.Context, tx pgx.Tx, s planner.Step, stmt string, args []any) (int64, error) {
		var n int64
		err := tx.QueryRow(ctx, stmt, args...).Scan(&n)
		differ.Add(n)
		return 0, err
	}
	if err := r.walk(ctx, s, count); err != nil {
		return err
	}
	if differ := differ.Load(); differ > 0 {
		// The next verification counts again from the start.
		if err := r.m.st.ResetTask(ctx, r.job.ID, s.ID); err != nil {
			return err
		}
		return &differError{table: s.Table.String(), rows: differ}
	}
	if err := r.m.st.MarkDone(ctx, r.m.pool, r.job.ID, s.ID); err != nil {
		return err
	}
	r.done[s.ID] = true
	return nil
}

// beforeSwap makes the checks that could hold the swap: an anti-wraparound
// autovacuum on one of the tables (it does not give way to lock requests,
// so the swap would queue behind it, and the application behind the swap)
// and the operator's postpone file.
func (r *run) beforeSwap(ctx context.Context) error {
	if r.done[swapID] {
		return nil
	}
	// The wait may be long: check for autovacuum when it ends.
	if err := r.waitPostponed(ctx); err != nil {
		return err
	}
	// Checked again last: the index builds take a while.
	if err := r.checkPartitions(ctx); err != nil {
		return err
	}
	return r.checkWraparound(ctx)
}

func (r *run) checkWraparound(ctx context.Context) error {
	v, err := r.vacuuming(ctx)
	if err != nil || v == nil || !v.wraparound {
		return err
	}
	return fmt.Errorf("an anti-wraparound autovacuum (pid %d) is running on %s: it does not yield to the swap's locks; wait until it ends, then run cutover again", v.pid, v.table)
}

// vacuumRun is a (auto)vacuum running on one of the migration's tables.
type vacuumRun struct {
	pid        int
	table      string
	wraparound bool
}

// vacuuming finds a vacuum running on the closure's tables, nil if none.
// Without pg_read_all_stats the progress view hides other users' vacuums:
// then it finds none, and the swap's lock_timeout still bounds the wait.
func (r *run) vacuuming(ctx context.Context) (*vacuumRun, error) {
	var tables []string
	for _, tc := range r.job.Plan.Tables {
		tables = append(tables, tc.Table.Quoted())
		for _, l := range tc.Leaves {
			tables = append(tables, l.Quoted())
		}
	}
	var v vacuumRun
	err := r.m.pool.QueryRow(ctx, tag("cutover/check-vacuum", `SELECT p.pid, p.relid::regclass::text, coalesce(a.query ILIKE '%to prevent wraparound%', false)
		FROM pg_stat_progress_vacuum p LEFT JOIN pg_stat_activity a USING (pid)
		WHERE p.relid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) t)
		ORDER BY 3 DESC LIMIT 1`), tables).Scan(&v.pid, &v.table, &v.wraparound)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check for a vacuum on the tables: %w", err)
	}
	return &v, nil
}

// awaitVacuum waits, up to limit, while an autovacuum runs on the tables
// before a swap attempt. An autovacuum gives way to a lock request only
// after deadlock_timeout (1s by default), and all that time the
// application would queue behind the swap's request: better to let it end
// first. It checks every quarter second, and returns how long it waited.
func (r *run) awaitVacuum(ctx context.Context, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(limit)
	for logged := false; time.Now().Before(deadline); {
		v, err := r.vacuuming(ctx)
		if err != nil || v == nil {
			if !logged {
				return 0, err // no vacuum: no wait
			}
			return time.Since(start), err
		}
		if !logged {
			r.log.Info().Int("pid", v.pid).Str("table", v.table).Msg("waiting for the vacuum on the table to end before the swap")
			logged = true
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return time.Since(start), nil
}

// waitPostponed waits while the postpone file exists, so an operator can
// prepare everything and swap at a quiet moment by deleting it.
func (r *run) waitPostponed(ctx context.Context) error {
	f := r.m.cfg.PostponeFile
	logged := false
	for f != "" {
		if _, err := os.Stat(f); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !logged {
			r.log.Info().Str("file", f).Msg("swap postponed: delete the file to swap")
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

// differError is a verification that found rows whose columns differ.
type differError struct {
	table string
	rows  int64
}

func (e *differError) Error() string {
	return fmt.Sprintf("%d row(s) of %s have a shadow value that differs from the column: something wrote them with the sync trigger disabled; run pgwiden backfill again (it copies them), then cutover", e.rows, e.table)
}

// backToBackfill makes backfill walk the table again after a verification
// found rows that differ: its UPDATE copies exactly those.
func (r *run) backToBackfill(ctx context.Context, verifyID string) error {
	copyID := string(planner.NewStepID(planner.Backfill, "copy", planner.StepID(verifyID).Object()))
	if err := r.m.st.ResetTask(ctx, r.job.ID, copyID); err != nil {
		return err
	}
	return r.setPhase(ctx, state.PhaseBackfilling)
}

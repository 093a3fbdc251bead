package migrator

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/planner"
)

// step runs one non-batched step unless it is done: recorded as done, or
// found done by its probe (a kill between the statement and its record).
// It retries with backoff when the statement times out waiting for a lock.
func (r *run) step(ctx context.Context, s planner.Step) error {
	if r.done[s.ID] {
		return nil
	}
	if h := r.m.hooks.BeforeStep; h != nil {
		if err := h(ctx, s.ID); err != nil {
			return err
		}
	}
	ok, err := r.probe(ctx, s)
	if err != nil {
		return err
	}
	if !ok {
		start := time.Now()
		ev := StepDone{Step: s}
		err = r.retry(ctx, r.m.cfg.Retry, s.ID, func(ctx context.Context, attempt int) error {
			ev.Attempts, ev.LockWait = attempt, time.Since(start)
			return r.exec(ctx, s)
		})
		if err != nil {
			return r.blocked(ctx, s, &pgerr.StepError{StepID: s.ID, SQL: annotate(s), Err: err})
		}
		ev.Took = time.Since(start)
		r.log.Info().Str("step", s.ID).Str("lock", string(s.Lock)).Dur("took", ev.Took).Msg("step done")
		emit(r.m, onStep, ev)
	}
	if err := r.m.st.MarkDone(ctx, r.m.pool, r.job.ID, s.ID); err != nil {
		return err
	}
	r.done[s.ID] = true
	return nil
}

// probe runs the step's "already done?" query.
func (r *run) probe(ctx context.Context, s planner.Step) (bool, error) {
	return probeOn(ctx, r.m.pool, s)
}

// rowQuerier is a pool or a connection.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// probeOn runs the step's "already done?" query through q: a step's
// companion is probed on the step's own session, as the pool's other
// connection holds the migration's lock.
func probeOn(ctx context.Context, q rowQuerier, s planner.Step) (bool, error) {
	if s.Probe == "" {
		return false, nil
	}
	var ok bool
	if err := q.QueryRow(ctx, tag(s.ID+" probe", s.Probe), s.ProbeArgs...).Scan(&ok); err != nil {
		return false, fmt.Errorf("step %s: check whether it is done: %w", s.ID, err)
	}
	return ok, nil
}

// exec runs a step's SQL once. In a transaction, lock_timeout and
// statement_timeout are SET LOCAL and the step is recorded as done before
// COMMIT, so a kill leaves either both or neither. Statements that cannot
// run in a transaction (CONCURRENTLY) get the settings on their session.
func (r *run) exec(ctx context.Context, s planner.Step) error {
	lock, timeout := r.m.cfg.LockTimeout, r.m.cfg.StatementTimeout
	if s.Lock == planner.ShareUpdateExclusive {
		// Index builds and validation scan whole tables, and their lock
		// blocks no reads or writes (Config.ScanLockTimeout).
		lock, timeout = r.m.cfg.ScanLockTimeout, 0
	}
	if s.Scan {
		timeout = 0
	}
	if !s.InTx {
		return r.execOutsideTx(ctx, s, lock, timeout)
	}
	return pgx.BeginFunc(ctx, r.m.pool, func(tx pgx.Tx) error {
		if err := setLocal(ctx, tx, lock, timeout); err != nil {
			return err
		}
		if err := execScript(ctx, tx, s); err != nil {
			return err
		}
		return r.m.st.MarkDone(ctx, tx, r.job.ID, s.ID)
	})
}

func (r *run) execOutsideTx(ctx context.Context, s planner.Step, lock, timeout time.Duration) error {
	return r.onSession(ctx, lock, timeout, func(conn *pgxpool.Conn) error {
		if err := r.runCompanions(ctx, conn.Conn(), s); err != nil {
			return err
		}
		if err := r.m.st.MarkRunning(ctx, conn, r.job.ID, s.ID); err != nil { // on this connection: the pool has only two, one holds the lock
			return err
		}
		_, err := conn.Exec(ctx, annotate(s), pgx.QueryExecModeSimpleProtocol)
		return err
	})
}

// onSession runs f on a pooled connection whose session has lock_timeout
// and statement_timeout set, for statements that cannot run in a
// transaction block (CONCURRENTLY, VACUUM), and the maintenance settings
// of index builds and vacuums (Config.MaintenanceWorkMem and
// MaintenanceWorkers). The session's own values are put back before the
// connection returns to the pool (not RESET, which would bring back what
// ALTER ROLE imposes, see session.go); if that fails the connection is
// closed instead.
func (r *run) onSession(ctx context.Context, lock, timeout time.Duration, f func(conn *pgxpool.Conn) error) error {
	conn, err := r.m.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	var oldLock, oldTimeout, oldMem, oldWorkers string
	if err := conn.QueryRow(ctx, `SELECT current_setting('lock_timeout'), current_setting('statement_timeout'),
		current_setting('maintenance_work_mem'), current_setting('max_parallel_maintenance_workers')`).Scan(&oldLock, &oldTimeout, &oldMem, &oldWorkers); err != nil {
		conn.Release()
		return err
	}
	set := "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)"
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
			set_config('maintenance_work_mem', $3, false), set_config('max_parallel_maintenance_workers', $4, false)`,
			oldLock, oldTimeout, oldMem, oldWorkers); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx)) // the connection is being discarded: its close error changes nothing
		}
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, set, ms(lock), ms(timeout)); err != nil {
		return err
	}
	if err := r.setMaintenance(ctx, conn); err != nil {
		return fmt.Errorf("set maintenance_work_mem and max_parallel_maintenance_workers: %w", err)
	}
	return f(conn)
}

// setMaintenance applies Config.MaintenanceWorkMem (never below the
// session's setting) and Config.MaintenanceWorkers to the session.
func (r *run) setMaintenance(ctx context.Context, conn *pgxpool.Conn) error {
	if kb := r.m.cfg.MaintenanceWorkMem / 1024; kb > 0 {
		if _, err := conn.Exec(ctx, `SELECT set_config('maintenance_work_mem', $1, false)
			WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes($1)`, strconv.FormatInt(kb, 10)+"kB"); err != nil {
			return err
		}
	}
	if n := r.m.cfg.MaintenanceWorkers; n >= 0 {
		if _, err := conn.Exec(ctx, "SELECT set_config('max_parallel_maintenance_workers', $1, false)", strconv.Itoa(n)); err != nil {
			return err
		}
	}
	return nil
}

// runCompanions runs, on the step's own session, the steps it needs first
// when their probe says so: the drop of the INVALID index an interrupted
// CREATE INDEX CONCURRENTLY leaves behind, so the build can start again.
func (r *run) runCompanions(ctx context.Context, conn *pgx.Conn, s planner.Step) error {
	for _, c := range r.companions(s.ID) {
		if c.Probe == "" {
			continue // a walk's companion (VACUUM): run by the walk
		}
		ok, err := probeOn(ctx, conn, c)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		r.warn(Warning{Step: c.ID, Object: s.Table.String(), Message: "running " + c.ID + ": " + c.Note})
		if _, err := conn.Exec(ctx, annotate(c), pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("%s: %w", c.ID, err)
		}
	}
	return nil
}

// setTimeoutsSQL sets lock_timeout ($1) and statement_timeout ($2) for the
// transaction; a walk's batches add their own settings to it
// (batchSettings), in the same round trip.
const setTimeoutsSQL = "SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)"

// setLocal applies the timeouts to the current transaction only.
func setLocal(ctx context.Context, tx pgx.Tx, lock, statement time.Duration) error {
	_, err := tx.Exec(ctx, setTimeoutsSQL, ms(lock), ms(statement))
	return err
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// execScript runs a step's SQL in tx: as one query string, or statement
// by statement when the step asks for it (Citus).
func execScript(ctx context.Context, tx pgx.Tx, s planner.Step) error {
	if !s.EachStatement {
		_, err := tx.Exec(ctx, annotate(s), pgx.QueryExecModeSimpleProtocol)
		return err
	}
	stmts, err := planner.SplitStatements(s.SQL)
	if err != nil {
		return fmt.Errorf("step %s: %w", s.ID, err)
	}
	for _, sql := range stmts {
		if _, err := tx.Exec(ctx, tag(s.ID, sql), pgx.QueryExecModeSimpleProtocol); err != nil {
			return err
		}
	}
	return nil
}

// annotate tags the step's statement so DBAs can tell it apart in
// pg_stat_activity.
func annotate(s planner.Step) string { return tag(s.ID, s.SQL) }

// tag prefixes sql with /* pgwiden <what> */. what comes from catalog
// names: "*/" in one would end the comment early, so it is broken up.
func tag(what, sql string) string {
	return "/* pgwiden " + sanitizeComment(what) + " */ " + sql
}

func sanitizeComment(s string) string {
	out := []byte(s)
	for i := 0; i+1 < len(out); i++ {
		if (out[i] == '*' && out[i+1] == '/') || (out[i] == '/' && out[i+1] == '*') {
			out[i] = '_'
		}
	}
	return string(out)
}

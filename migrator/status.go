package migrator

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Status is one migration as `pgwiden status` shows it.
type Status struct {
	Job state.Job
	// Holder is the session running a phase of this migration now, nil
	// when none is.
	Holder *Holder
	Tasks  []TaskStatus
	// Drift lists what changed in the migration's tables since prepare
	// (an unfinished migration only), so the operator learns it before
	// the cutover window.
	Drift []planner.DriftChange
}

// Holder is a session that holds a migration's advisory lock. Fields the
// server hides from the current role (another user's session, without
// pg_read_all_stats) are empty.
type Holder struct {
	PID             int
	ApplicationName string
	ClientAddr      string
	ClientHostname  string
	// Since is when the holder's session started.
	Since time.Time
}

// TaskStatus is a batched step's checkpoint with the figures derived from
// it.
type TaskStatus struct {
	state.Task
	// Percent is RowsDone of RowsEstimate (100 once done), -1 when the
	// estimate is unknown.
	Percent float64
	// Rate is rows per second between the task's first and last batch, 0
	// before it has one.
	Rate float64
	// ETA is the time left at Rate, 0 when done or unknown.
	ETA time.Duration
}

// ReadStatus returns every migration in the database, newest first, with
// its tasks and its current holder. It only reads: without pgwiden's state
// schema it returns none, and it never takes the migrations' locks.
func ReadStatus(ctx context.Context, q catalog.Querier, st *state.Store) ([]Status, error) {
	jobs, err := st.List(ctx)
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	holders, err := readHolders(ctx, q, jobs)
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(jobs))
	seen := map[string]bool{}
	for i, j := range jobs {
		out[i].Job = j
		// The lock belongs to the target, not to one job: show its holder
		// on the newest job of the target only (jobs are newest first).
		if key := j.Target.String(); !seen[key] {
			seen[key] = true
			out[i].Holder = holders[key]
		}
		tasks, err := st.Tasks(ctx, j.ID)
		if err != nil {
			return nil, err
		}
		if out[i].Drift, err = jobDrift(ctx, q, st, &out[i].Job); err != nil {
			return nil, err
		}
		for _, t := range tasks {
			out[i].Tasks = append(out[i].Tasks, taskStatus(t))
		}
	}
	return out, nil
}

// jobDrift is ReadDrift for status: the changes only.
func jobDrift(ctx context.Context, q catalog.Querier, st *state.Store, j *state.Job) ([]planner.DriftChange, error) {
	if j.Phase.Finished() {
		return nil, nil
	}
	done, err := st.DoneSteps(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	rep, err := ReadDrift(ctx, q, st, j, done)
	if err != nil || rep == nil {
		return nil, err
	}
	return rep.Changes, nil
}

func taskStatus(t state.Task) TaskStatus {
	ts := TaskStatus{Task: t, Percent: -1}
	switch {
	case t.Done:
		ts.Percent = 100
	case t.RowsEstimate > 0:
		ts.Percent = min(100, 100*float64(t.RowsDone)/float64(t.RowsEstimate))
	case t.RowsEstimate == 0:
		ts.Percent = 0
	}
	if t.StartedAt != nil && t.UpdatedAt != nil {
		if d := t.UpdatedAt.Sub(*t.StartedAt); d > 0 {
			ts.Rate = float64(t.RowsDone) / d.Seconds()
		}
	}
	if !t.Done && ts.Rate > 0 && t.RowsEstimate > t.RowsDone {
		ts.ETA = time.Duration(float64(t.RowsEstimate-t.RowsDone) / ts.Rate * float64(time.Second))
	}
	return ts
}

// readHolders finds, in one read of pg_locks, the sessions holding the
// advisory lock of each job's target, keyed by planner.Target.String().
func readHolders(ctx context.Context, q catalog.Querier, jobs []state.Job) (map[string]*Holder, error) {
	var names []string
	var hi, lo []int64
	for _, j := range jobs {
		name := j.Target.String()
		h, l := state.LockHalves(name)
		names, hi, lo = append(names, name), append(hi, h), append(lo, l)
	}
	// pg_locks shows a bigint advisory key as two oids: the high half in
	// classid, the low half in objid, and objsubid 1.
	rows, err := q.Query(ctx, `/* pgwiden status */ SELECT k.i::int, l.pid, coalesce(a.application_name, ''),
		coalesce(host(a.client_addr), ''), coalesce(a.client_hostname, ''), a.backend_start
		FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS k(hi, lo, i)
		JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = k.hi::oid AND l.objid = k.lo::oid AND l.objsubid = 1
		LEFT JOIN pg_stat_activity a ON a.pid = l.pid`, hi, lo)
	if err != nil {
		return nil, fmt.Errorf("status: read the migrations' locks: %w", err)
	}
	out := map[string]*Holder{}
	var i int
	var since *time.Time
	var h Holder
	_, err = pgx.ForEachRow(rows, []any{&i, &h.PID, &h.ApplicationName, &h.ClientAddr, &h.ClientHostname, &since}, func() error {
		hc := h
		if since != nil {
			hc.Since = *since
		}
		out[names[i-1]] = &hc
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("status: read the migrations' locks: %w", err)
	}
	return out, nil
}

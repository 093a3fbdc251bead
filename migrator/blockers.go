package migrator

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/planner"
)

// A session left idle in transaction for hours holds up CREATE INDEX
// CONCURRENTLY (it waits for every older transaction of the database) and
// the swap (it needs the tables' locks). Both waits are bounded by
// lock_timeout and the retry policy; when they give up, the operator
// needs to know who held them up, not only that a lock timed out.

// Blocker is a session holding up one of pgwiden's statements.
type Blocker struct {
	PID             int
	ApplicationName string
	State           string
	// Age is how long its transaction has been open.
	Age   time.Duration
	Query string
}

// BlockedError is a step that gave up waiting, with the sessions that most
// likely held it up, oldest transaction first.
type BlockedError struct {
	Phase    planner.Phase
	StepID   string
	Blockers []Blocker
	Err      error
}

func (e *BlockedError) Error() string {
	b := e.Blockers[0]
	more := ""
	if n := len(e.Blockers) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more session(s) in older transactions)", n)
	}
	return fmt.Sprintf("%s; held up by pid %d (application_name=%q, %s, transaction open for %s, last query %q)%s; fix: end that transaction (SELECT pg_terminate_backend(%d)) or let it finish, then run %s again",
		e.Err, b.PID, b.ApplicationName, b.State, b.Age.Round(time.Second), b.Query, more, b.PID, e.Phase)
}

func (e *BlockedError) Unwrap() error { return e.Err }

// blockersQuery lists the transactions of this database that hold a lock
// on one of the tables ($1), or, for a statement that waits for older
// transactions ($2: CREATE INDEX CONCURRENTLY), any open transaction.
const blockersQuery = `/* pgwiden blockers */ SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''),
	extract(epoch FROM clock_timestamp() - a.xact_start)::float8, left(coalesce(a.query, ''), 100)
	FROM pg_stat_activity a
	WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL
	AND ($2 OR a.pid IN (SELECT l.pid FROM pg_locks l WHERE l.granted
		AND l.relation = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)))
	ORDER BY a.xact_start LIMIT 3`

// blocked turns a step's lock timeout into a *BlockedError naming the
// sessions in the way; any other error, or a timeout whose blockers have
// gone meanwhile, comes back as it was.
func (r *run) blocked(ctx context.Context, s planner.Step, err error) error {
	if pgerr.Code(err) != pgerr.LockNotAvailable {
		return err
	}
	phase := s.Phase
	if phase == planner.Unswap || phase == planner.Unguard {
		phase = planner.Rollback // their command
	}
	var tables []string
	for _, tc := range r.job.Plan.Tables {
		tables = append(tables, tc.Table.Quoted())
		for _, l := range tc.Leaves {
			tables = append(tables, l.Quoted())
		}
	}
	waitsForOlder := !s.InTx && s.Lock == planner.ShareUpdateExclusive
	rows, qerr := r.m.pool.Query(ctx, blockersQuery, tables, waitsForOlder)
	if qerr != nil {
		r.log.Warn().Err(qerr).Msg("find the sessions holding up the step")
		return err
	}
	var out []Blocker
	var b Blocker
	var age float64
	_, qerr = pgx.ForEachRow(rows, []any{&b.PID, &b.ApplicationName, &b.State, &age, &b.Query}, func() error {
		b.Age = time.Duration(age * float64(time.Second))
		b.Query = strings.Join(strings.Fields(b.Query), " ")
		out = append(out, b)
		return nil
	})
	if qerr != nil || len(out) == 0 {
		return err
	}
	return &BlockedError{Phase: phase, StepID: s.ID, Blockers: out, Err: err}
}

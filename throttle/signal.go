package throttle

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/format"
)

// Reading is one signal's verdict at one moment.
type Reading struct {
	// Signal is the Name of the signal that made the reading.
	Signal string
	// Hold is true while the job must wait.
	Hold bool
	// Value is what was measured and Limit the threshold it is compared
	// with, in the signal's unit: seconds, sessions, bytes/s or a ratio.
	Value, Limit float64
	// Reason says why the job waits, in an operator's words
	// ("replication lag 12.4s > 5s on replica-1"); set when Hold is.
	Reason string
}

// Signal is one health check of the database. Read is called at most every
// Config.SignalEvery while the job runs, and every Config.HoldPoll while a
// signal holds it.
type Signal interface {
	Name() string
	Read(ctx context.Context) (Reading, error)
}

// Querier runs the one-row queries of the SQL signals. *pgxpool.Pool and
// *pgx.Conn satisfy it. Give a signal a pool whose sessions carry
// application_name=pgwiden: the signals leave sessions of that name out,
// so pgwiden never waits for itself.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ownApp is the application_name of pgwiden's sessions, which the signals
// do not count: the backfill's own transaction is not a reason to wait.
const ownApp = "pgwiden"

// Func returns a signal whose reading comes from f: the migrator uses it
// for the pause and rate an operator sets in the state table. A reading
// without a Signal name gets name.
func Func(name string, f func(ctx context.Context) (Reading, error)) Signal {
	return funcSignal{name: name, f: f}
}

type funcSignal struct {
	name string
	f    func(ctx context.Context) (Reading, error)
}

func (s funcSignal) Name() string { return s.name }

func (s funcSignal) Read(ctx context.Context) (Reading, error) {
	r, err := s.f(ctx)
	if r.Signal == "" {
		r.Signal = s.name
	}
	return r, err
}

// secs renders a measured duration in seconds for a reason: "12.4s".
func secs(s float64) string { return format.Duration(time.Duration(s * float64(time.Second))) }

// sessions renders a count of sessions with its verb: "1 session waits",
// "2 sessions wait".
func sessions(n int, verb string) string {
	if n == 1 {
		return "1 session " + verb + "s"
	}
	return strconv.Itoa(n) + " sessions " + verb
}

// hiddenErr is the error of a signal that cannot see other roles'
// sessions: its verdict would be a guess, so it names the grant instead.
func hiddenErr(what string, n int) error {
	return fmt.Errorf("%d %s of other roles are hidden from pgwiden's role: "+
		"GRANT pg_read_all_stats (or pg_monitor) TO it, or turn this check off", n, what)
}

// durLimit renders a configured limit: "5s", "1m".
func durLimit(d time.Duration) string { return format.Duration(d) }

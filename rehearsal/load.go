package rehearsal

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/internal/load"
	"github.com/pgwiden/pgwiden/planner"
)

// Load is a writer the rehearsal runs while the phases run, standing in
// for the application, so that the report shows what the application
// would see: its statements' latency and errors, phase by phase.
type Load struct {
	// Name labels the load in the report.
	Name string
	// SQL is one statement, run again and again. The builtin load's takes
	// a key of the target column as $1.
	SQL string
	// Rate is how many statements to start per second.
	Rate    float64
	builtin bool
	lo, hi  int64 // the builtin load's key range
}

// BuiltinLoad touches random rows of the target table at rate statements
// per second: UPDATE t SET key = key WHERE key = $1. It works on any
// table (no column values to invent, unlike an INSERT), it fires the
// table's triggers as a real write does (pgwiden's sync trigger among
// them), and it takes the row lock an application's update takes.
func BuiltinLoad(rate float64) Load { return Load{Name: "builtin", Rate: rate, builtin: true} }

// ScriptLoad runs one SQL statement of the operator's at rate statements
// per second, as pgbench would run a one-line script.
func ScriptLoad(sql string, rate float64) Load { return Load{Name: "script", SQL: sql, Rate: rate} }

// LoadReport is what one load saw.
type LoadReport struct {
	Name   string      `json:"name"`
	SQL    string      `json:"sql"`
	Rate   float64     `json:"rate"`
	Note   string      `json:"note,omitempty"`
	Phases []LoadPhase `json:"phases"`
}

// LoadPhase is one load's statements during one phase (by start time).
type LoadPhase struct {
	Phase      string `json:"phase"`
	Statements int64  `json:"statements"`
	Errors     int64  `json:"errors"`
	// Skipped counts statements not started because every worker was
	// still waiting on an earlier one: the load fell behind its rate.
	Skipped int64   `json:"skipped"`
	P50MS   float64 `json:"p50_ms"`
	P99MS   float64 `json:"p99_ms"`
	MaxMS   float64 `json:"max_ms"`
	// ErrorSamples are the distinct errors met, with their counts.
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// loadWorkers is how many statements of one load can be in flight: a
// statement waiting on a lock does not stop the others, up to this many.
const loadWorkers = 4

// builtinSQL is the builtin load's statement for target.
func builtinSQL(t planner.Target) string {
	c := catalog.Ident(t.Column)
	return fmt.Sprintf("/* pgwiden rehearse load */ UPDATE %s SET %s = %s WHERE %s = $1", t.Table.Quoted(), c, c, c) // names quoted by catalog
}

// keyRange reads the target column's bounds (through its index) for the
// builtin load; ok is false when the table is empty.
func keyRange(ctx context.Context, pool *pgxpool.Pool, t planner.Target) (lo, hi int64, ok bool, err error) {
	c := catalog.Ident(t.Column)
	var l, h *int64
	q := fmt.Sprintf("/* pgwiden rehearse load */ SELECT min(%s)::bigint, max(%s)::bigint FROM %s", c, c, t.Table.Quoted()) // names quoted by catalog
	if err := pool.QueryRow(ctx, q).Scan(&l, &h); err != nil {
		return 0, 0, false, fmt.Errorf("builtin load: read the key range of %s: %w", t, err)
	}
	if l == nil || h == nil {
		return 0, 0, false, nil
	}
	return *l, *h, true, nil
}

// startLoads starts every load on pool (internal/load), counting its
// statements under phase.
func startLoads(ctx context.Context, pool *pgxpool.Pool, loads []Load, phase string) *load.Runner {
	specs := make([]load.Spec, len(loads))
	for i, l := range loads {
		specs[i] = load.Spec{Name: l.Name, Rate: l.Rate, Workers: loadWorkers, Op: func(ctx context.Context, _ int, rng *rand.Rand) error {
			var args []any
			if l.builtin {
				args = []any{l.lo + rng.Int64N(l.hi-l.lo+1)}
			}
			return runStatement(ctx, pool, l.SQL, args)
		}}
	}
	return load.Start(ctx, specs, phase)
}

// runStatement runs one statement and reads its rows. It goes through
// pgx's statement cache, as an application does: prepared once per
// connection, so after the swap the load meets "cached plan must not
// change result type" where the application would. (Exec would not show
// it: pgx sends a statement without arguments through the simple
// protocol.)
func runStatement(ctx context.Context, pool *pgxpool.Pool, sql string, args []any) error {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

// loadReports turns what the loads saw into the report's figures.
func loadReports(loads []Load, reps []load.Report) []LoadReport {
	out := make([]LoadReport, len(loads))
	for i, l := range loads {
		out[i] = LoadReport{Name: l.Name, SQL: l.SQL, Rate: l.Rate}
		for _, p := range reps[i].Phases {
			out[i].Phases = append(out[i].Phases, LoadPhase{Phase: p.Name, Statements: p.Ops, Errors: p.Errors, Skipped: p.Skipped,
				P50MS: ms(p.P50), P99MS: ms(p.P99), MaxMS: ms(p.Max), ErrorSamples: p.ErrorSamples})
		}
	}
	return out
}

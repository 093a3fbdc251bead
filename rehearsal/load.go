package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
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

// loadRunner drives the loads and keeps their latencies per phase.
type loadRunner struct {
	pool   *pgxpool.Pool
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards the fields below, written by every worker
	phase  string
	phases []string
	stats  []map[string]*latencies // per load, per phase
	loads  []Load
}

// startLoads starts every load, counting its statements under phase.
func startLoads(ctx context.Context, pool *pgxpool.Pool, loads []Load, phase string) *loadRunner {
	ctx, cancel := context.WithCancel(ctx)
	lr := &loadRunner{pool: pool, cancel: cancel, phase: phase, phases: []string{phase}, loads: loads}
	for i := range loads {
		lr.stats = append(lr.stats, map[string]*latencies{})
		lr.wg.Add(1)
		go lr.drive(ctx, i)
	}
	return lr
}

// enter counts the statements started from now on under phase.
func (lr *loadRunner) enter(phase string) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.phase = phase
	if !slices.Contains(lr.phases, phase) {
		lr.phases = append(lr.phases, phase)
	}
}

// drive runs one load: a scheduler hands out statements at the rate to
// loadWorkers workers, and skips those no worker is free for.
func (lr *loadRunner) drive(ctx context.Context, i int) {
	defer lr.wg.Done()
	jobs := make(chan struct{}, loadWorkers)
	var workers sync.WaitGroup
	for w := range loadWorkers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			lr.work(ctx, i, jobs, rand.New(rand.NewPCG(uint64(i), uint64(w)+uint64(time.Now().UnixNano())))) //nolint:gosec // G404: which keys a synthetic load touches, not a secret
		}()
	}
	rate := lr.loads[i].Rate
	tick := min(max(time.Duration(float64(time.Second)/rate), time.Millisecond), 100*time.Millisecond)
	t := time.NewTicker(tick)
	defer func() { t.Stop(); close(jobs); workers.Wait() }()
	start, issued := time.Now(), int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for due := int64(time.Since(start).Seconds() * rate); issued < due; issued++ {
			select {
			case jobs <- struct{}{}:
			default:
				lr.observe(i, lr.current(), 0, nil, true)
			}
		}
	}
}

// work runs statements as the scheduler hands them out.
func (lr *loadRunner) work(ctx context.Context, i int, jobs <-chan struct{}, rng *rand.Rand) {
	l := lr.loads[i]
	for range jobs {
		var args []any
		if l.builtin {
			args = []any{l.lo + rng.Int64N(l.hi-l.lo+1)}
		}
		phase := lr.current()
		start := time.Now()
		err := lr.run(ctx, l.SQL, args)
		if ctx.Err() != nil {
			return // stopped: the cancelled statement is not the database's doing
		}
		lr.observe(i, phase, time.Since(start), err, false)
	}
}

// run runs one statement and reads its rows. It goes through pgx's
// statement cache, as an application does: prepared once per connection,
// so after the swap the load meets "cached plan must not change result
// type" where the application would. (Exec would not show it: pgx sends a
// statement without arguments through the simple protocol.)
func (lr *loadRunner) run(ctx context.Context, sql string, args []any) error {
	rows, err := lr.pool.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

func (lr *loadRunner) current() string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.phase
}

func (lr *loadRunner) observe(i int, phase string, d time.Duration, err error, skipped bool) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	s := lr.stats[i][phase]
	if s == nil {
		s = &latencies{errs: map[string]int{}}
		lr.stats[i][phase] = s
	}
	switch {
	case skipped:
		s.skipped++
	case err != nil:
		s.errors++
		s.errs[errorText(err)]++
	default:
		s.observe(d)
	}
}

// stop ends the loads and reports what each saw, phase by phase.
func (lr *loadRunner) stop() []LoadReport {
	lr.cancel()
	lr.wg.Wait()
	lr.mu.Lock()
	defer lr.mu.Unlock()
	out := make([]LoadReport, len(lr.loads))
	for i, l := range lr.loads {
		out[i] = LoadReport{Name: l.Name, SQL: l.SQL, Rate: l.Rate}
		for _, ph := range lr.phases {
			if s := lr.stats[i][ph]; s != nil {
				out[i].Phases = append(out[i].Phases, s.summary(ph))
			}
		}
	}
	return out
}

// errorText names an error by its SQLSTATE and message, so that repeats
// group together.
func errorText(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	return err.Error()
}

// reservoirSize bounds the latencies kept per load and phase: a long
// rehearsal keeps a uniform sample (Algorithm R) for the percentiles, and
// the exact count and maximum.
const reservoirSize = 50_000

// latencies is one load's statements in one phase.
type latencies struct {
	n, errors, skipped int64
	max                time.Duration
	sample             []time.Duration
	errs               map[string]int
}

func (s *latencies) observe(d time.Duration) {
	s.n++
	s.max = max(s.max, d)
	if len(s.sample) < reservoirSize {
		s.sample = append(s.sample, d)
	} else if j := rand.Int64N(s.n); j < reservoirSize { //nolint:gosec // G404: reservoir sampling of latencies, not a secret
		s.sample[j] = d
	}
}

func (s *latencies) summary(phase string) LoadPhase {
	lp := LoadPhase{Phase: phase, Statements: s.n + s.errors, Errors: s.errors, Skipped: s.skipped, MaxMS: ms(s.max)}
	sorted := slices.Clone(s.sample)
	slices.Sort(sorted)
	lp.P50MS, lp.P99MS = ms(percentile(sorted, 0.50)), ms(percentile(sorted, 0.99))
	for _, msg := range sortedKeys(s.errs) {
		lp.ErrorSamples = append(lp.ErrorSamples, fmt.Sprintf("%s (%d)", msg, s.errs[msg]))
	}
	return lp
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

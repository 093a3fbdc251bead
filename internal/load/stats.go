package load

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Report is what one load saw.
type Report struct {
	Name   string
	Phases []Phase
}

// Phase is one load's operations that started during one phase.
type Phase struct {
	Name string
	// Ops counts operations run, failed ones included.
	Ops, Errors int64
	// Skipped counts operations not started because every worker was
	// still busy with an earlier one: the load fell behind its rate.
	Skipped       int64
	P50, P99, Max time.Duration
	// ErrorSamples are the distinct errors met, "message (SQLSTATE x)
	// (count)", in message order.
	ErrorSamples []string
}

// Totals adds up a load's phases: operations, errors, the slowest one and
// the first error sample.
func (r Report) Totals() (ops, errs int64, slowest time.Duration, firstError string) {
	for _, p := range r.Phases {
		ops, errs, slowest = ops+p.Ops, errs+p.Errors, max(slowest, p.Max)
		if firstError == "" && len(p.ErrorSamples) > 0 {
			firstError = p.ErrorSamples[0]
		}
	}
	return ops, errs, slowest, firstError
}

// reservoirSize bounds the latencies kept per load and phase: a long run
// keeps a uniform sample (Algorithm R) for the percentiles, and the exact
// count and maximum.
const reservoirSize = 50_000

// latencies is one load's operations in one phase.
type latencies struct {
	n, errors, skipped int64
	max                time.Duration
	sample             []time.Duration
	errs               map[string]int
}

func (s *latencies) record(d time.Duration, err error, skipped bool) {
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

func (s *latencies) observe(d time.Duration) {
	s.n++
	s.max = max(s.max, d)
	if len(s.sample) < reservoirSize {
		s.sample = append(s.sample, d)
	} else if j := rand.Int64N(s.n); j < reservoirSize { //nolint:gosec // G404: reservoir sampling of latencies, not a secret
		s.sample[j] = d
	}
}

func (s *latencies) summary(phase string) Phase {
	p := Phase{Name: phase, Ops: s.n + s.errors, Errors: s.errors, Skipped: s.skipped, Max: s.max}
	sorted := slices.Clone(s.sample)
	slices.Sort(sorted)
	p.P50, p.P99 = percentile(sorted, 0.50), percentile(sorted, 0.99)
	msgs := make([]string, 0, len(s.errs))
	for m := range s.errs {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	for _, m := range msgs {
		p.ErrorSamples = append(p.ErrorSamples, fmt.Sprintf("%s (%d)", m, s.errs[m]))
	}
	return p
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
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

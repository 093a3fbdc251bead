package load

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Op is one operation of a load. worker numbers the goroutine running it
// (0 to Workers-1) and rng is that goroutine's own; ctx ends when the load
// stops, and an error it causes is not counted.
type Op func(ctx context.Context, worker int, rng *rand.Rand) error

// Spec is one load.
type Spec struct {
	Name string
	// Rate is how many operations start per second, over all workers;
	// one no worker is free for is skipped and counted. 0 runs each
	// worker's operations back to back, Pause apart.
	Rate  float64
	Pause time.Duration
	// Workers is how many operations can be in flight (at least 1): an
	// operation waiting on a lock does not stop the others.
	Workers int
	Op      Op
}

// Runner runs loads and keeps their figures per phase.
type Runner struct {
	specs  []Spec
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards the fields below, written by every worker
	phase  string
	phases []string
	stats  []map[string]*latencies // per load, per phase
}

// Start starts every load, counting its operations under phase.
func Start(ctx context.Context, specs []Spec, phase string) *Runner {
	ctx, cancel := context.WithCancel(ctx)
	r := &Runner{specs: specs, cancel: cancel, phase: phase, phases: []string{phase}}
	for i := range specs {
		r.stats = append(r.stats, map[string]*latencies{})
		r.wg.Add(1)
		go r.drive(ctx, i)
	}
	return r
}

// Enter counts the operations started from now on under phase.
func (r *Runner) Enter(phase string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phase = phase
	if !slices.Contains(r.phases, phase) {
		r.phases = append(r.phases, phase)
	}
}

// Stop ends the loads and reports what each saw, phase by phase, in the
// order the phases were entered.
func (r *Runner) Stop() []Report {
	r.cancel()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Report, len(r.specs))
	for i, s := range r.specs {
		out[i] = Report{Name: s.Name}
		for _, ph := range r.phases {
			if st := r.stats[i][ph]; st != nil {
				out[i].Phases = append(out[i].Phases, st.summary(ph))
			}
		}
	}
	return out
}

// drive runs one load: a scheduler hands out operations at the rate to
// the workers and skips those no worker is free for; without a rate the
// workers run on their own.
func (r *Runner) drive(ctx context.Context, i int) {
	defer r.wg.Done()
	s := r.specs[i]
	jobs := make(chan struct{}, max(s.Workers, 1))
	var workers sync.WaitGroup
	for w := range max(s.Workers, 1) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(w)+uint64(time.Now().UnixNano()))) //nolint:gosec // G404: which keys a synthetic load touches, not a secret
			if s.Rate > 0 {
				for range jobs {
					r.once(ctx, i, w, rng)
				}
				return
			}
			for r.pause(ctx, s.Pause) {
				r.once(ctx, i, w, rng)
			}
		}()
	}
	defer func() { close(jobs); workers.Wait() }()
	if s.Rate > 0 {
		r.schedule(ctx, i, jobs)
	}
}

// schedule hands out load i's operations at its rate until ctx ends.
func (r *Runner) schedule(ctx context.Context, i int, jobs chan<- struct{}) {
	rate := r.specs[i].Rate
	t := time.NewTicker(min(max(time.Duration(float64(time.Second)/rate), time.Millisecond), 100*time.Millisecond))
	defer t.Stop()
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
				r.observe(i, r.current(), 0, nil, true)
			}
		}
	}
}

// pause waits d unless ctx ends first; it reports whether to go on.
func (r *Runner) pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// once runs one operation and records it under the phase it started in.
func (r *Runner) once(ctx context.Context, i, worker int, rng *rand.Rand) {
	phase := r.current()
	start := time.Now()
	err := r.specs[i].Op(ctx, worker, rng)
	if ctx.Err() != nil {
		return // stopped: the cancelled operation is not the database's doing
	}
	r.observe(i, phase, time.Since(start), err, false)
}

func (r *Runner) current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.phase
}

func (r *Runner) observe(i int, phase string, d time.Duration, err error, skipped bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats[i][phase]
	if s == nil {
		s = &latencies{errs: map[string]int{}}
		r.stats[i][phase] = s
	}
	s.record(d, err, skipped)
}

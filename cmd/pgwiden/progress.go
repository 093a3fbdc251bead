package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"

	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

// progress shows the batched steps (backfill copy, cutover verification)
// as they go. It receives the migrator's snapshots through Events.OnProgress.
//
// On a terminal it draws one bar per table. The bar is
// github.com/schollz/progressbar rather than hand-written escape codes:
// it follows the terminal's width (and its changes), throttles redraws so
// a fast walk does not spend its time repainting, and computes rows/s and
// the ETA from a moving window. Elsewhere (a log file, a CI job) it writes
// one structured line per table every interval, gh-ost printStatus style.
// Either way every table gets a final line, so a log always says how far
// each table got.
type progress struct {
	log   zerolog.Logger
	w     io.Writer
	tty   bool
	every time.Duration

	// mu guards the fields below. Today the migrator walks one table at a
	// time and calls OnProgress from the phase's goroutine, but it does not
	// promise to: the lock keeps the display consistent if that changes.
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	barFor string
	tables map[string]*tableProgress
	order  []string
}

// tableProgress is the last snapshot of one step and when it was logged.
type tableProgress struct {
	last   migrator.Progress
	logged time.Time
	final  bool
}

// newProgress draws bars on w when it is a terminal, and otherwise logs
// one line per table every interval.
func newProgress(w io.Writer, log zerolog.Logger, every time.Duration) *progress {
	f, ok := w.(*os.File)
	return &progress{
		log:    log.With().Str("component", "progress").Logger(),
		w:      w,
		tty:    ok && isatty.IsTerminal(f.Fd()),
		every:  every,
		tables: map[string]*tableProgress{},
	}
}

// update takes one snapshot, sent after every batch.
func (p *progress) update(s migrator.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	tp := p.tables[s.Step]
	if tp == nil {
		tp = &tableProgress{logged: now}
		p.tables[s.Step] = tp
		p.order = append(p.order, s.Step)
	}
	tp.last = s
	switch {
	case p.tty:
		p.draw(s)
	case now.Sub(tp.logged) >= p.every:
		p.event(zerolog.InfoLevel, s).Msg("progress")
		tp.logged = now
	}
	if s.Done {
		p.final(tp)
	}
}

// finish writes the final line of every table that has not had one: the
// phase stopped (an error, Ctrl-C) before the table was done.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, step := range p.order {
		if tp := p.tables[step]; !tp.final {
			p.final(tp)
		}
	}
}

// final ends a table: its bar is completed (or left where it stopped) and
// a log line says how far it got.
func (p *progress) final(tp *tableProgress) {
	tp.final = true
	s := tp.last
	if p.bar != nil && p.barFor == s.Step {
		if s.Done {
			_ = p.bar.Finish() // a failed redraw of a bar is not worth an error
		}
		fmt.Fprintln(p.w)
		p.bar, p.barFor = nil, ""
	}
	msg := "table done"
	if !s.Done {
		msg = "table stopped"
	}
	p.event(zerolog.InfoLevel, s).Bool("done", s.Done).Float64("took_s", math.Round(s.Elapsed.Seconds()*1000)/1000).Msg(msg)
}

// event is a log line with the snapshot's fields, the same names in every
// line so that they can be graphed.
func (p *progress) event(lvl zerolog.Level, s migrator.Progress) *zerolog.Event {
	return p.log.WithLevel(lvl).
		Str("step", s.Step).
		Str("table", s.Table).
		Int64("scanned", s.Scanned).
		Int64("estimate", s.Estimate).
		Int64("copied", s.Copied).
		Float64("rows_per_s", math.Round(s.Rate()*10)/10).
		Int64("eta_s", int64(s.ETA().Seconds())).
		Str("throttled", s.Throttled)
}

// draw moves the step's bar, starting a new one for a new step.
func (p *progress) draw(s migrator.Progress) {
	if p.barFor != s.Step {
		if p.bar != nil {
			fmt.Fprintln(p.w) // keep the previous table's bar on screen
		}
		p.bar, p.barFor = p.newBar(s), s.Step
	}
	if max := p.bar.GetMax64(); max > 0 && s.Scanned > max {
		// Statistics are estimates: the table may have more rows.
		p.bar.ChangeMax64(s.Scanned)
	}
	desc := barLabel(s)
	switch {
	case s.Held: // "paused: replication lag 12.4s > 5s on replica-1"
		desc += " (" + s.Throttled + ")"
	case s.Throttled != "":
		desc += " (throttled: " + s.Throttled + ")"
	}
	p.bar.Describe(desc)
	_ = p.bar.Set64(s.Scanned) // a failed redraw of a bar is not worth an error
}

func (p *progress) newBar(s migrator.Progress) *progressbar.ProgressBar {
	max := s.Estimate
	if max <= 0 {
		max = -1 // unknown size: a spinner with the count and the rate
	}
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(barLabel(s)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// barLabel reads "copy public.tags" or "verify public.tags" from the step
// ID ("backfill/copy/public.tags").
func barLabel(s migrator.Progress) string {
	return planner.StepID(s.Step).Kind() + " " + s.Table
}

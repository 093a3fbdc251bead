package rehearsal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// TestCapture reads the migrator's lines as the migrator writes them
// (zerolog JSON, durations in float milliseconds), tags them with the
// phase, and shows only the lines at the display level.
func TestRehearseCapture(t *testing.T) {
	var shown bytes.Buffer
	c := NewCapture(&shown, zerolog.WarnLevel)
	log := zerolog.New(c).Level(zerolog.InfoLevel).With().Str("component", "migrator").Logger()

	c.setPhase("prepare")
	log.Info().Str("step", "prepare/add-shadow/public.t").Str("lock", "ACCESS EXCLUSIVE").Dur("took", 1500*time.Microsecond).Msg("step done")
	log.Warn().Str("what", "prepare/add-shadow/public.u").Int("attempt", 1).Str("sqlstate", "55P03").Err(errors.New("lock timeout")).Msg("retry")
	c.setPhase("cutover")
	log.Info().Int("attempts", 2).Dur("locks_held_at_most", 12*time.Millisecond).Msg("columns swapped")
	c.setPhase("rollback")
	log.Info().Int("attempts", 1).Dur("locks_held_at_most", 3*time.Millisecond).Msg("old columns swapped back")
	log.Debug().Msg("not even captured")

	steps := c.Steps()
	if len(steps) != 1 || steps[0] != (StepTiming{Phase: "prepare", Step: "prepare/add-shadow/public.t", Lock: "ACCESS EXCLUSIVE", TookMS: 1.5}) {
		t.Errorf("steps %+v", steps)
	}
	if sw, ok := c.Swap("swap"); !ok || sw != (Swap{Attempts: 2, HeldMS: 12}) {
		t.Errorf("swap %+v %v", sw, ok)
	}
	if sb, ok := c.Swap("swap back"); !ok || sb.Attempts != 1 {
		t.Errorf("swap back %+v %v", sb, ok)
	}
	ws := c.Warnings()
	if len(ws) != 1 || ws[0].Phase != "prepare" || ws[0].Message != "retry" ||
		ws[0].Detail != "attempt=1 error=lock timeout sqlstate=55P03 what=prepare/add-shadow/public.u" {
		t.Errorf("warnings %+v", ws)
	}
	if got := strings.Count(shown.String(), "\n"); got != 1 || !strings.Contains(shown.String(), `"message":"retry"`) {
		t.Errorf("shown %d lines, want the warning only:\n%s", got, shown.String())
	}
}

// TestLatencies: percentiles by nearest rank, errors grouped by message
// and SQLSTATE, skips counted apart from statements.
func TestRehearseLatencies(t *testing.T) {
	s := &latencies{errs: map[string]int{}}
	for i := 1; i <= 100; i++ {
		s.observe(time.Duration(i) * time.Millisecond)
	}
	lr := &loadRunner{stats: []map[string]*latencies{{"cutover": s}}, loads: []Load{{Name: "builtin"}}, phases: []string{"cutover"}}
	pgErr := &pgconn.PgError{Code: "0A000", Message: "cached plan must not change result type"}
	lr.observe(0, "cutover", 0, pgErr, false)
	lr.observe(0, "cutover", 0, pgErr, false)
	lr.observe(0, "cutover", 0, nil, true)
	got := s.summary("cutover")
	want := LoadPhase{Phase: "cutover", Statements: 102, Errors: 2, Skipped: 1, P50MS: 50, P99MS: 99, MaxMS: 100,
		ErrorSamples: []string{"cached plan must not change result type (SQLSTATE 0A000) (2)"}}
	if got.Phase != want.Phase || got.Statements != want.Statements || got.Errors != want.Errors || got.Skipped != want.Skipped ||
		got.P50MS != want.P50MS || got.P99MS != want.P99MS || got.MaxMS != want.MaxMS || len(got.ErrorSamples) != 1 || got.ErrorSamples[0] != want.ErrorSamples[0] {
		t.Errorf("summary %+v, want %+v", got, want)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("percentile of nothing = %v", p)
	}
}

// TestWithoutPassword keeps the password off pg_dump's command line.
func TestRehearseWithoutPassword(t *testing.T) {
	cases := map[string]string{
		"postgres://u:s3cret@h:5432/db?sslmode=require": "postgres://u@h:5432/db?sslmode=require",
		"postgresql://u@h/db?password=s3cret":           "postgresql://u@h/db",
		"host=h user=u password='s 3' dbname=db":        "host=h user=u  dbname=db",
		"host=h password=s3cret dbname=db":              "host=h  dbname=db",
	}
	for in, want := range cases {
		if got := withoutPassword(in); got != want {
			t.Errorf("withoutPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

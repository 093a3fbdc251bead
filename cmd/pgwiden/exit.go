package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/runway"
	"github.com/pgwiden/pgwiden/state"
)

// Exit codes. Scripts and monitoring checks depend on them: keep them stable.
const (
	exitOK       = 0
	exitFailure  = 1 // the database or the environment failed
	exitUsage    = 2 // bad input: unknown object, wrong type, bad flag, a phase run out of order
	exitAtRisk   = 3 // audit: something is above --threshold or on a runway (wins over 6)
	exitBlocked  = 4 // plan, prepare: the migration has blockers to fix first; any phase: its preflight failed; runway: refused (nothing changed)
	exitBusy     = 5 // another pgwiden process holds the migration's lock
	exitUnknown  = 6 // audit: nothing above --threshold, but some values could not be read (no privilege)
	exitInternal = 70
)

// exitError carries an exit code chosen by a command, with or without a
// message (audit's exit 3 has printed its report already).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks an error as the operator's input being wrong.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// report prints err as one line on w and returns the process exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return code
	}
	// pgerr.Render adds the server's DETAIL and HINT to a failed
	// statement's message (its SQLSTATE is in the message already).
	fmt.Fprintf(w, "pgwiden: %s\n", oneLine(dsn.Redact(pgerr.Render(err))))
	return code
}

// exitCode maps an error to the exit code table above.
func exitCode(err error) int {
	var (
		ee *exitError
		pe *dsn.ParseError
		te *planner.TargetError
		po *migrator.PhaseOrderError
		be *migrator.BlockerError
		de *migrator.DriftError
		bu *state.BusyError
		rf *runway.RefusedError
		pf *migrator.PreflightError
	)
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &pe), errors.As(err, &te), errors.As(err, &po):
		return exitUsage
	case errors.As(err, &be), errors.As(err, &rf), errors.As(err, &de), errors.As(err, &pf):
		return exitBlocked
	case errors.As(err, &bu):
		return exitBusy
	case isUsage(err):
		return exitUsage
	}
	return exitFailure
}

// isUsage recognises urfave/cli's own flag errors, which are plain errors.
func isUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "flag provided but not defined") ||
		strings.HasPrefix(msg, "Required flag") ||
		strings.HasPrefix(msg, "invalid value")
}

// oneLine folds a multi-line message so every error is a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

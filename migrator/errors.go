package migrator

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// PhaseOrderError is a phase run before the one it needs.
type PhaseOrderError struct {
	Target planner.Target
	Have   state.Phase
	Run    string // the command to run first
}

func (e *PhaseOrderError) Error() string {
	if e.Run == "" {
		return fmt.Sprintf("migration of %s is %s: nothing left to do", e.Target, e.Have)
	}
	return fmt.Sprintf("migration of %s is %s: run pgwiden %s first", e.Target, phaseWords(e.Have), e.Run)
}

func phaseWords(p state.Phase) string {
	if p == "" {
		return "not prepared"
	}
	return strings.ReplaceAll(string(p), "_", " ")
}

// BlockerError is a plan with blockers: nothing was changed.
type BlockerError struct {
	Target   planner.Target
	Blockers []planner.Finding
}

func (e *BlockerError) Error() string {
	f := e.Blockers[0]
	more := ""
	if n := len(e.Blockers) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more: see pgwiden plan)", n)
	}
	return fmt.Sprintf("%s cannot be migrated: %s: %s; fix: %s%s", e.Target, f.Object, f.Detail, f.Fix, more)
}

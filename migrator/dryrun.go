package migrator

import (
	"fmt"
	"io"
	"strings"

	"github.com/pgwiden/pgwiden/planner"
)

// writeDryRun prints the steps of one phase as they would run: each with
// its lock, the ones already done marked so, batched steps with the
// statement repeated per batch.
func writeDryRun(w io.Writer, p *planner.Plan, phase planner.Phase, done map[string]bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "-- pgwiden %s --dry-run for %s: nothing below has been run\n", phase, p.Target)
	phases := []planner.Phase{phase}
	if phase == planner.Rollback && done["cutover/swap"] {
		phases = []planner.Phase{planner.Unswap, planner.Rollback} // the columns are swapped: swap back first
	}
	var steps []planner.Step
	for _, ph := range phases {
		for _, s := range p.Steps {
			if s.Phase == ph {
				steps = append(steps, s)
			}
		}
	}
	n := 0
	for _, s := range steps {
		n++
		state := ""
		if done[s.ID] {
			state = " (already done: skipped)"
		}
		where := "in a transaction with lock_timeout"
		if !s.InTx {
			where = "outside a transaction, with lock_timeout"
		}
		fmt.Fprintf(&b, "\n-- %d. %s%s\n-- lock: %s, %s\n", n, s.ID, state, s.Lock, where)
		if s.Batch != nil {
			fmt.Fprintf(&b, "-- repeated per %s, each batch one transaction with its checkpoint\n", s.Batch.Unit())
		}
		fmt.Fprintf(&b, "%s;\n", s.SQL)
	}
	if n == 0 {
		fmt.Fprintf(&b, "\n-- no steps in this phase\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

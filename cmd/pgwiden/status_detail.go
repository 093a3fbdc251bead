package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// stepJSON is one step of the plan in `status --table --column --json`.
type stepJSON struct {
	ID    string `json:"id"`
	Phase string `json:"phase"`
	Table string `json:"table"`
	Lock  string `json:"lock"`
	Done  bool   `json:"done"`
}

// runStatusOf shows the newest migration of the target named by --table
// and --column in detail; older ones of the same target are listed by
// number. A target that never had one prints "no migration of ...".
func runStatusOf(ctx context.Context, e *env, c *cli.Context, st *state.Store, all []migrator.Status) error {
	t, err := targetFrom(c)
	if err != nil {
		return err
	}
	var mine []migrator.Status
	for _, s := range all {
		if s.Job.Target.String() == t.String() {
			mine = append(mine, s)
		}
	}
	var done map[string]bool
	if len(mine) > 0 {
		if done, err = st.DoneSteps(ctx, mine[0].Job.ID); err != nil {
			return err
		}
		// A batched step's record is its task.
		for _, tk := range mine[0].Tasks {
			done[tk.StepID] = done[tk.StepID] || tk.Done
		}
	}
	if c.Bool("json") {
		doc := statusJSON(mine)
		if len(doc.Migrations) > 0 {
			doc.Migrations[0].Steps = stepsJSON(mine[0].Job.Plan, done)
		}
		err = encodeJSON(e.stdout, doc)
	} else {
		err = writeStatusOf(e.stdout, t, mine, done)
	}
	if err != nil {
		return fmt.Errorf("print status: %w", err)
	}
	return nil
}

func stepsJSON(p *planner.Plan, done map[string]bool) []stepJSON {
	out := []stepJSON{}
	if p == nil {
		return out
	}
	for _, s := range p.Steps {
		out = append(out, stepJSON{ID: s.ID, Phase: string(s.Phase), Table: s.Table.String(), Lock: string(s.Lock), Done: done[s.ID]})
	}
	return out
}

// writeStatusOf prints one migration: what it is and where it stands,
// its tables, its batched steps' progress and every step of its plan.
func writeStatusOf(w io.Writer, t planner.Target, mine []migrator.Status, done map[string]bool) error {
	if len(mine) == 0 {
		_, err := fmt.Fprintf(w, "no migration of %s\n", t)
		return err
	}
	s := mine[0]
	j := s.Job
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "migration:\t%d\n", j.ID)
	fmt.Fprintf(tw, "target:\t%s\n", j.Target)
	fmt.Fprintf(tw, "phase:\t%s\n", words(j.Phase))
	fmt.Fprintf(tw, "created:\t%s\n", j.CreatedAt.Local().Format(time.DateTime))
	fmt.Fprintf(tw, "updated:\t%s\n", j.UpdatedAt.Local().Format(time.DateTime))
	fmt.Fprintf(tw, "running:\t%s\n", describeHolder(s.Holder))
	fmt.Fprintf(tw, "last error:\t%s\n", orDash(oneLine(j.LastError)))
	if j.Plan != nil {
		fmt.Fprintf(tw, "tables:\t%s\n", closureColumns(j.Plan))
		fmt.Fprintf(tw, "steps done:\t%d of %d\n", countDone(shownSteps(j), done), len(shownSteps(j)))
	}
	if len(mine) > 1 {
		var ids []string
		for _, o := range mine[1:] {
			ids = append(ids, fmt.Sprintf("%d (%s)", o.Job.ID, words(o.Job.Phase)))
		}
		fmt.Fprintf(tw, "earlier:\t%s\n", strings.Join(ids, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range throttleLines(s) {
		fmt.Fprintln(w, l)
	}
	if err := writeTasks(w, s.Tasks); err != nil {
		return err
	}
	if j.Plan == nil {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tLOCK\tDONE")
	for _, st := range shownSteps(j) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.ID, st.Lock, yesNo(done[st.ID]))
	}
	return tw.Flush()
}

// shownSteps are the steps of the way the migration goes: prepare to
// cleanup, or, once it is rolling back, the rollback's steps too.
func shownSteps(j state.Job) []planner.Step {
	back := j.Phase == state.PhaseRollingBack || j.Phase == state.PhaseRolledBack
	var out []planner.Step
	for _, s := range j.Plan.Steps {
		switch s.Phase {
		case planner.Rollback, planner.Unswap, planner.Unguard:
			if !back {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// closureColumns reads "public.tags (id), public.tag_links (tag_id)".
func closureColumns(p *planner.Plan) string {
	var out []string
	for _, tc := range p.Tables {
		var cols []string
		for _, c := range tc.Columns {
			cols = append(cols, c.Name)
		}
		out = append(out, fmt.Sprintf("%s (%s)", tc.Table, strings.Join(cols, ", ")))
	}
	return strings.Join(out, ", ")
}

func countDone(steps []planner.Step, done map[string]bool) int {
	n := 0
	for _, s := range steps {
		if done[s.ID] {
			n++
		}
	}
	return n
}

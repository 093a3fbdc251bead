package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/internal/format"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// phaseSpec describes one of the five commands that change the database.
type phaseSpec struct {
	phase       planner.Phase
	usage       string
	description string
	flags       []string // engine flags (engineOptions.flags) besides timeoutFlags
	extra       []cli.Flag
	run         func(*migrator.Migrator, context.Context, planner.Target) error
}

// phaseCommands returns prepare, backfill, cutover, cleanup and rollback.
// Their flags show the engine's defaults (migrator.DefaultConfig,
// throttle.DefaultConfig).
func phaseCommands() []*cli.Command {
	specs := []phaseSpec{
		{phase: planner.Prepare, run: (*migrator.Migrator).Prepare,
			usage: "phase 1: add the bigint shadow columns, the triggers that keep them in step, wider sequences",
			description: "Plans the migration from the live catalog (refusing a plan with blockers, exit 4), records it in\n" +
				"schema pgwiden and runs its prepare steps. Every statement waits at most --lock-timeout for its lock."},
		{phase: planner.Backfill, run: (*migrator.Migrator).Backfill,
			usage: "phase 2: copy the existing rows into the shadow columns, in short batches (resumable)",
			description: "Walks each table in key order, one transaction per batch with its checkpoint: after Ctrl-C or\n" +
				"a kill it resumes at the next batch when run again.",
			flags: slices.Concat(walkFlags, []string{"vacuum-every", "vacuum-fraction", "hot-passes", "maintenance-work-mem", "wal-compression", "disable-user-triggers"})},
		{phase: planner.Cutover, run: (*migrator.Migrator).Cutover,
			usage: "phase 3: verify the copy, build indexes and constraints online, then swap the columns",
			description: "Everything before the swap can be interrupted and run again. The swap takes all its locks at once\n" +
				"under --lock-timeout and is retried up to --max-attempts times; after a failed last attempt the\n" +
				"tables are as they were.",
			flags: slices.Concat(walkFlags, []string{"max-attempts", "postpone-file", "maintenance-work-mem", "maintenance-workers"})},
		{phase: planner.Cleanup, run: (*migrator.Migrator).Cleanup,
			usage: "phase 4: drop the old columns and the triggers (after it there is no rollback)",
			extra: []cli.Flag{&cli.BoolFlag{Name: "yes", Usage: "do not ask for confirmation (needed when stdin is not a terminal)"}}},
		{phase: planner.Rollback, run: (*migrator.Migrator).Rollback,
			usage: "return the schema to what it was before prepare, from any phase before cleanup (after cutover it swaps back, if every value still fits the old type)",
			flags: []string{"workers"}},
	}
	cmds := make([]*cli.Command, len(specs))
	for i, s := range specs {
		cmds[i] = phaseCommand(s)
	}
	return cmds
}

func phaseCommand(s phaseSpec) *cli.Command {
	o := newEngineOptions()
	flags := append(targetFlags(),
		&cli.BoolFlag{Name: "dry-run", Usage: "print the SQL this phase would run, with its locks, and change nothing"})
	flags = append(append(append(flags, o.flags(timeoutFlags...)...), o.flags(s.flags...)...), s.extra...)
	name := string(s.phase)
	return &cli.Command{
		Name:        name,
		Usage:       s.usage,
		Description: s.description,
		Flags:       flags,
		// Flags are checked before connecting: a typo fails fast, exit 2.
		Before: func(c *cli.Context) error {
			if err := o.check(c); err != nil {
				return err
			}
			if s.phase == planner.Cleanup && !c.Bool("yes") && !c.Bool("dry-run") && !isTerminal(c.App.Reader) {
				return usageError("cleanup drops the old columns and cannot be undone: pass --yes to confirm it (stdin is not a terminal)")
			}
			return nil
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("%s: %s (see pgwiden %s --help)", name, err, name)
		},
		Action: withEnv(func(ctx context.Context, e *env, c *cli.Context) error {
			return runPhase(ctx, e, c, s, o)
		}),
	}
}

// phaseRun is what a phase command works with: the engine, the state it
// reads for the summary, and the progress display hooked to the engine.
type phaseRun struct {
	m        *migrator.Migrator
	st       *state.Store
	progress *progress
	close    func() // releases what the governor holds (standby connections)
}

// newMigrator opens pgwiden's state (reading only) and builds the engine
// with the flags' configuration, the governor and the progress display.
// The governor is the throttle controller (throttle.go), built for the
// target's active migration; a dry run walks nothing and gets none.
func newMigrator(ctx context.Context, e *env, c *cli.Context, t planner.Target, o *engineOptions) (*phaseRun, error) {
	cfg := o.cfg
	// Before anything else: behind a transaction-mode pooler even reading
	// the state could fail with a confusing error.
	if err := migrator.CheckPooler(ctx, e.pool); err != nil {
		return nil, err
	}
	st, err := state.Open(ctx, e.pool, e.log)
	if err != nil {
		return nil, err
	}
	r := &phaseRun{st: st, close: func() {}}
	var gov migrator.Governor
	if !c.Bool("dry-run") {
		job, err := st.Peek(ctx, t)
		if err != nil {
			return nil, err
		}
		var plan *planner.Plan
		if job != nil {
			plan = job.Plan
		}
		ctrl, closeGov, err := newGovernor(ctx, e, o.throttle, st, t, plan)
		if err != nil {
			return nil, err
		}
		gov, r.close = ctrl, closeGov
	}
	r.m = migrator.New(e.pool, st, gov, e.log.With().Str("component", "migrator").Logger(), cfg, migrator.Hooks{})
	r.progress = newProgress(e.stderr, e.log, cfg.ProgressEvery)
	r.m.Subscribe(migrator.Events{OnProgress: r.progress.update})
	return r, nil
}

// runPhase runs one phase (or prints it, with --dry-run) and prints a
// one-line summary on stdout.
func runPhase(ctx context.Context, e *env, c *cli.Context, s phaseSpec, o *engineOptions) error {
	t, err := targetFrom(c)
	if err != nil {
		return err
	}
	r, err := newMigrator(ctx, e, c, t, o)
	if err != nil {
		return err
	}
	defer r.close()
	if c.Bool("dry-run") {
		return r.m.DryRun(ctx, e.stdout, t, s.phase)
	}
	before, err := lastJob(ctx, r.st, t)
	if err != nil {
		return err
	}
	if s.phase == planner.Cleanup && !c.Bool("yes") && before != nil && isCutOver(before.Phase) {
		if err := confirm(c, e, t, before); err != nil {
			return err
		}
	}
	err = s.run(r.m, ctx, t)
	r.progress.finish()
	if err != nil {
		return err
	}
	after, err := lastJob(ctx, r.st, t)
	if err != nil {
		return err
	}
	line, err := r.summary(ctx, s.phase, t, before, after)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, line)
	return err
}

// lastJob returns the newest migration of t, finished or not; nil when
// there is none (or no state schema).
func lastJob(ctx context.Context, st *state.Store, t planner.Target) (*state.Job, error) {
	jobs, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range jobs {
		if jobs[i].Target.Table == t.Table && jobs[i].Target.Column == t.Column { // the key: the first column
			return &jobs[i], nil
		}
	}
	return nil, nil
}

func isCutOver(p state.Phase) bool { return p == state.PhaseCutOver || p == state.PhaseCleaningUp }

// summary is the line a phase prints when it returns without error.
func (r *phaseRun) summary(ctx context.Context, ph planner.Phase, t planner.Target, before, after *state.Job) (string, error) {
	if after == nil {
		return fmt.Sprintf("%s: nothing to do for %s (see the log for why)", ph, t), nil
	}
	if before != nil && before.ID == after.ID && before.Phase == after.Phase && before.UpdatedAt.Equal(after.UpdatedAt) {
		return fmt.Sprintf("%s: nothing to do (migration %d is %s)", ph, after.ID, words(after.Phase)), nil
	}
	head := fmt.Sprintf("%s: done (migration %d, %d tables", ph, after.ID, len(after.Plan.Tables))
	switch ph {
	case planner.Backfill:
		copied, err := r.copied(ctx, after.ID)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, %d rows copied)", head, copied), nil
	case planner.Cutover:
		sw := r.m.LastSwap
		if sw.Attempts == 0 {
			return head + ", swapped by an earlier run)", nil
		}
		return fmt.Sprintf("%s; swap: %d attempt(s), exclusive locks held %s)", head, sw.Attempts, format.Duration(sw.Held)), nil
	case planner.Cleanup:
		return head + "; old columns dropped: it can no longer be rolled back)", nil
	case planner.Rollback:
		return head + " restored as before prepare)", nil
	}
	return head + ")", nil
}

// copied sums the rows the backfill's tasks have updated, over all runs.
func (r *phaseRun) copied(ctx context.Context, id int64) (int64, error) {
	tasks, err := r.st.Tasks(ctx, id)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, tk := range tasks {
		if planner.StepID(tk.StepID).Phase() == planner.Backfill {
			n += tk.RowsDone
		}
	}
	return n, nil
}

// confirm asks the operator at the terminal to type the table's name
// before cleanup makes the migration final.
func confirm(c *cli.Context, e *env, t planner.Target, job *state.Job) error {
	fmt.Fprintf(e.stderr, "cleanup drops the old columns of %d table(s) of migration %d; after it %s cannot be rolled back.\n"+
		"Type the table name (%s) to confirm: ", len(job.Plan.Tables), job.ID, t, t.Table.Name)
	line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
	if err != nil && line == "" {
		return usageError("cleanup: no confirmation read (%v): nothing was changed; type the table name or pass --yes", err)
	}
	if got := strings.TrimSpace(line); got != t.Table.Name && got != t.Table.String() {
		return usageError("cleanup: %q is not %s: nothing was changed", got, t.Table.Name)
	}
	return nil
}

func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// words writes a phase as an operator reads it: "cut over", "rolled back".
func words(p state.Phase) string { return strings.ReplaceAll(string(p), "_", " ") }

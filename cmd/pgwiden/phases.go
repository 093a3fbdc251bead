package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
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
	flags       []cli.Flag
	run         func(*migrator.Migrator, context.Context, planner.Target) error
}

// phaseCommands returns prepare, backfill, cutover, cleanup and rollback.
// Their flags show the engine's defaults (migrator.DefaultConfig).
func phaseCommands() []*cli.Command {
	def := migrator.DefaultConfig()
	specs := []phaseSpec{
		{phase: planner.Prepare, run: (*migrator.Migrator).Prepare,
			usage: "phase 1: add the bigint shadow columns, the triggers that keep them in step, wider sequences",
			description: "Plans the migration from the live catalog (refusing a plan with blockers, exit 4), records it in\n" +
				"schema pgwiden and runs its prepare steps. Every statement waits at most --lock-timeout for its lock."},
		{phase: planner.Backfill, run: (*migrator.Migrator).Backfill,
			usage: "phase 2: copy the existing rows into the shadow columns, in short batches (resumable)",
			description: "Walks each table in key order, one transaction per batch with its checkpoint: after Ctrl-C or\n" +
				"a kill it resumes at the next batch when run again.",
			flags: append(walkFlags(def),
				&cli.IntFlag{Name: "vacuum-every", Value: def.VacuumEvery, Category: throttleCategory,
					Usage: "run a plain VACUUM of the table after every N batches, between them (0: never; autovacuum's job)"},
				&cli.BoolFlag{Name: "disable-user-triggers", Value: def.DisableUserTriggers,
					Usage: "do not fire the tables' own triggers on the copy (session_replication_role=replica; superuser only)"},
			)},
		{phase: planner.Cutover, run: (*migrator.Migrator).Cutover,
			usage: "phase 3: verify the copy, build indexes and constraints online, then swap the columns",
			description: "Everything before the swap can be interrupted and run again. The swap takes all its locks at once\n" +
				"under --lock-timeout and is retried up to --max-attempts times; after a failed last attempt the\n" +
				"tables are as they were.",
			flags: append(walkFlags(def),
				&cli.IntFlag{Name: "max-attempts", Value: def.SwapAttempts, Usage: "swap attempts before giving up"},
				&cli.StringFlag{Name: "postpone-file", Value: def.PostponeFile,
					Usage: "while this file exists, wait before the swap (delete it to swap at a quiet moment)"},
			)},
		{phase: planner.Cleanup, run: (*migrator.Migrator).Cleanup,
			usage: "phase 4: drop the old columns and the triggers (after it there is no rollback)",
			flags: []cli.Flag{&cli.BoolFlag{Name: "yes", Usage: "do not ask for confirmation (needed when stdin is not a terminal)"}}},
		{phase: planner.Rollback, run: (*migrator.Migrator).Rollback,
			usage: "return the schema to what it was before prepare, from any phase before cleanup (after cutover it swaps back, if every value still fits the old type)"},
	}
	cmds := make([]*cli.Command, len(specs))
	for i, s := range specs {
		cmds[i] = phaseCommand(s, def)
	}
	return cmds
}

// walkFlags are the flags of the phases that walk tables in batches: the
// backfill's copy and the cutover's verification, both paced by the
// throttle (throttle.go). Each command gets its own flag values:
// urfave/cli flags hold state and must not be shared.
func walkFlags(def migrator.Config) []cli.Flag {
	return append([]cli.Flag{
		&cli.DurationFlag{Name: "progress-interval", Value: def.ProgressEvery,
			Usage: "without a terminal, log progress this often (a final line per table is always logged)"},
	}, throttleFlags(def)...)
}

func phaseCommand(s phaseSpec, def migrator.Config) *cli.Command {
	flags := append(targetFlags(),
		&cli.BoolFlag{Name: "dry-run", Usage: "print the SQL this phase would run, with its locks, and change nothing"},
		&cli.DurationFlag{Name: "lock-timeout", Value: def.LockTimeout, Usage: "longest wait for a table lock; the statement is retried later"},
		&cli.DurationFlag{Name: "scan-lock-timeout", Value: def.ScanLockTimeout,
			Usage: "longest lock wait of CREATE INDEX CONCURRENTLY and VALIDATE, which block no reads or writes while they wait (an index build waits for older transactions)"},
		&cli.DurationFlag{Name: "statement-timeout", Value: def.StatementTimeout,
			Usage: "bound on catalog-only statements (index builds and validation are not bounded)"},
	)
	name := string(s.phase)
	return &cli.Command{
		Name:        name,
		Usage:       s.usage,
		Description: s.description,
		Flags:       append(flags, s.flags...),
		// Flags are checked before connecting: a typo fails fast, exit 2.
		Before: func(c *cli.Context) error {
			if _, err := configFrom(c); err != nil {
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
			return runPhase(ctx, e, c, s)
		}),
	}
}

// configFrom reads the engine's configuration from the command's flags;
// flags a command does not have keep their defaults.
func configFrom(c *cli.Context) (migrator.Config, error) {
	cfg := migrator.DefaultConfig()
	if c.IsSet("lock-timeout") {
		cfg.LockTimeout = c.Duration("lock-timeout")
	}
	if c.IsSet("scan-lock-timeout") {
		cfg.ScanLockTimeout = c.Duration("scan-lock-timeout")
	}
	if c.IsSet("statement-timeout") {
		cfg.StatementTimeout = c.Duration("statement-timeout")
	}
	if c.IsSet("batch-size") {
		cfg.BatchSize = c.Int("batch-size")
	}
	if c.IsSet("max-rate") {
		cfg.MaxRate = c.Float64("max-rate")
	}
	if c.IsSet("max-attempts") {
		cfg.SwapAttempts = c.Int("max-attempts")
	}
	if c.IsSet("postpone-file") {
		cfg.PostponeFile = c.String("postpone-file")
	}
	if c.IsSet("progress-interval") {
		cfg.ProgressEvery = c.Duration("progress-interval")
	}
	if c.IsSet("vacuum-every") {
		cfg.VacuumEvery = c.Int("vacuum-every")
	}
	cfg.DisableUserTriggers = c.Bool("disable-user-triggers")
	if err := cfg.Validate(); err != nil {
		return cfg, &exitError{code: exitUsage, err: err}
	}
	if _, err := throttleSettingsFrom(c); err != nil {
		return cfg, err
	}
	switch {
	case cfg.StatementTimeout < 0:
		return cfg, usageError("--statement-timeout must be 0 (no limit) or positive")
	case cfg.ProgressEvery <= 0:
		return cfg, usageError("--progress-interval must be positive, e.g. 10s")
	}
	return cfg, nil
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
func newMigrator(ctx context.Context, e *env, c *cli.Context, t planner.Target) (*phaseRun, error) {
	cfg, err := configFrom(c)
	if err != nil {
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
		ctrl, closeGov, err := newGovernor(ctx, e, c, st, t, plan)
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
func runPhase(ctx context.Context, e *env, c *cli.Context, s phaseSpec) error {
	t, err := targetFrom(c)
	if err != nil {
		return err
	}
	r, err := newMigrator(ctx, e, c, t)
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
		if jobs[i].Target == t {
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
		if strings.HasPrefix(tk.StepID, string(planner.Backfill)+"/") {
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

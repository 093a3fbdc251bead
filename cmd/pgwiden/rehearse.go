package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/rehearsal"
	"github.com/pgwiden/pgwiden/state"
)

// rehearseCommand runs a whole migration on staging and reports on it.
func rehearseCommand() *cli.Command {
	o := newEngineOptions()
	return &cli.Command{
		Name:  "rehearse",
		Usage: "on a staging copy: run prepare, backfill, cutover and rollback for real, and write a report for the change review",
		Description: "Writes to the database given by the global --dsn, so it refuses to start unless --staging-check returns true\n" +
			"there (or --i-know-this-is-staging). The report (markdown, or --json) has each phase's duration, the backfill's\n" +
			"rows/s, the exclusive locks' longest hold and the swap's attempts, extra disk, WAL, every warning, the verification,\n" +
			"a schema comparison after the rollback, and with --production-dsn or --production-rows an extrapolation to production.",
		Flags: append(append(append(targetFlags(), rehearseFlags()...), o.flags(timeoutFlags...)...), o.flags(slices.Concat(walkFlags, []string{"max-attempts", "hot-passes"})...)...),
		Before: func(c *cli.Context) error {
			err := o.check(c)
			if err == nil {
				err = checkRehearseFlags(c)
			}
			return err
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("rehearse: %s (see pgwiden rehearse --help)", err)
		},
		Action: withEnv(func(ctx context.Context, e *env, c *cli.Context) error { return runRehearse(ctx, e, c, o) }),
	}
}

// rehearseFlags are rehearse's own flags; it takes the engine's too.
func rehearseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "staging-check", Usage: "a query that returns true only on staging, e.g. \"SELECT current_database() LIKE '%staging%'\" (run read-only before anything is written)"},
		&cli.BoolFlag{Name: "i-know-this-is-staging", Usage: "run without --staging-check"},
		&cli.StringFlag{Name: "report", Usage: "write the report to this file instead of stdout"},
		&cli.BoolFlag{Name: "json", Usage: "write the report as JSON instead of markdown"},
		&cli.BoolFlag{Name: "keep", Usage: "stop after the cutover: no rollback, the columns stay bigint"},
		&cli.StringFlag{Name: "production-dsn", Usage: "extrapolate to production from its catalog statistics (read-only session, no table is scanned)"},
		&cli.Int64Flag{Name: "production-rows", Usage: "extrapolate to production from the target table's row count there"},
		&cli.Float64Flag{Name: "load-builtin", Usage: "meanwhile, touch random rows of the target table at this many statements/s (UPDATE t SET key = key WHERE key = $1)"},
		&cli.StringFlag{Name: "load", Usage: "meanwhile, run this one SQL statement again and again at --load-rate"},
		&cli.Float64Flag{Name: "load-rate", Value: 10, Usage: "statements per second of --load"},
		&cli.DurationFlag{Name: "load-baseline", Value: 3 * time.Second, Usage: "run the load alone this long first, for its baseline latency"},
	}
}

// checkRehearseFlags refuses, before connecting, what cannot work.
func checkRehearseFlags(c *cli.Context) error {
	switch {
	case c.String("staging-check") == "" && !c.Bool("i-know-this-is-staging"):
		return usageError("rehearse writes to the database it runs on: pass --staging-check 'SELECT ...' " +
			"(a query that returns true only on staging, e.g. SELECT current_database() LIKE '%%staging%%') or --i-know-this-is-staging")
	case c.String("production-dsn") != "" && c.IsSet("production-rows"):
		return usageError("--production-dsn and --production-rows both give production's size: pass one")
	case c.Int64("production-rows") < 0:
		return usageError("--production-rows must not be negative")
	case c.Float64("load-builtin") < 0 || c.Float64("load-rate") <= 0:
		return usageError("--load-builtin must be 0 (off) or positive, --load-rate positive")
	case c.Duration("load-baseline") < 0:
		return usageError("--load-baseline must not be negative")
	}
	return nil
}

func runRehearse(ctx context.Context, e *env, c *cli.Context, o *engineOptions) error {
	t, err := targetFrom(c)
	if err != nil {
		return err
	}
	r, m, st, closeAll, err := newRehearsal(ctx, e, c, t, o)
	if err != nil {
		return err
	}
	defer closeAll()
	if err := r.Check(ctx); err != nil {
		return rehearseError(err)
	}
	// The walks are paced by the same controller as backfill's, built from
	// the plan the rehearsal made and will record: pgwiden pause and
	// throttle reach a rehearsal too.
	gov, closeGov, err := newGovernor(ctx, e, o.throttle, st, t, r.Plan())
	if err != nil {
		return err
	}
	defer closeGov()
	m.SetGovernor(gov)
	out, closeOut, err := reportOutput(c, e.stdout)
	if err != nil {
		return err
	}
	rep, err := r.Run(ctx)
	if rep == nil { // Run checks again only when Check was not called
		return errors.Join(rehearseError(err), closeOut())
	}
	werr := writeReport(out, rep, c.Bool("json"))
	if cerr := closeOut(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return errors.Join(rehearseError(err), fmt.Errorf("write the report: %w", werr))
	}
	if path := c.String("report"); path != "" {
		verdict := "passed"
		if !rep.Passed {
			verdict = "FAILED"
		}
		fmt.Fprintf(e.stdout, "rehearse: %s %s (report: %s)\n", verdict, t, path)
	}
	return rehearseError(err)
}

// newRehearsal builds the engine as the phase commands do (its governor
// comes once the rehearsal has planned), plus the production and load
// pools when asked. closeAll closes the pools it opened.
func newRehearsal(ctx context.Context, e *env, c *cli.Context, t planner.Target, o *engineOptions) (*rehearsal.Rehearsal, *migrator.Migrator, *state.Store, func(), error) {
	cfg := o.cfg
	st, err := state.Open(ctx, e.pool, e.log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	m := migrator.New(e.pool, st, nil, e.log.With().Str("component", "migrator").Logger(), cfg, migrator.Hooks{})
	pr := newProgress(e.stderr, e.log, cfg.ProgressEvery)
	m.Subscribe(migrator.Events{OnProgress: pr.update})
	d := rehearsal.Deps{Pool: e.pool, Migrator: m, Store: st, Log: e.log.With().Str("component", "rehearse").Logger()}
	rc := rehearsal.Config{Target: t, DSN: e.global.dsn, StagingCheck: c.String("staging-check"),
		AssumeStaging: c.Bool("i-know-this-is-staging"), Keep: c.Bool("keep"), ProductionRows: float64(c.Int64("production-rows")),
		LoadBaseline: c.Duration("load-baseline"), Engine: cfg, Pacing: o.throttle.cfg}
	if rate := c.Float64("load-builtin"); rate > 0 {
		rc.Loads = append(rc.Loads, rehearsal.BuiltinLoad(rate))
	}
	if sql := c.String("load"); sql != "" {
		rc.Loads = append(rc.Loads, rehearsal.ScriptLoad(sql, c.Float64("load-rate")))
	}
	var pools []*pgxpool.Pool
	closeAll := func() {
		pr.finish()
		for _, p := range pools {
			p.Close()
		}
	}
	timeout := e.global.connectTimeout
	if prod := c.String("production-dsn"); prod != "" {
		// Production is only read: every transaction of this session is
		// read-only, and the rehearsal checks that it is.
		d.Production, err = dsn.Open(ctx, prod, dsn.Options{Flag: "--production-dsn", App: "pgwiden-rehearse", MaxConns: 1, ConnectTimeout: timeout,
			Params: map[string]string{"default_transaction_read_only": "on", "statement_timeout": "30s", "lock_timeout": "2s"}})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		pools = append(pools, d.Production)
	}
	if len(rc.Loads) > 0 {
		d.LoadPool, err = dsn.Open(ctx, e.global.dsn, dsn.Options{Flag: "--dsn", App: "pgwiden-rehearse-load", MaxConns: int32(4 * len(rc.Loads)), ConnectTimeout: timeout}) //nolint:gosec // G115: a handful of --load flags, far below 2^31
		if err != nil {
			closeAll()
			return nil, nil, nil, nil, err
		}
		pools = append(pools, d.LoadPool)
	}
	return rehearsal.New(d, rc), m, st, closeAll, nil
}

// reportOutput opens --report, or returns stdout.
func reportOutput(c *cli.Context, stdout io.Writer) (io.Writer, func() error, error) {
	path := c.String("report")
	if path == "" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path) //nolint:gosec // G304: the operator names the report file (--report)
	if err != nil {
		return nil, nil, usageError("--report: %v", err)
	}
	return f, f.Close, nil
}

func writeReport(w io.Writer, rep *rehearsal.Report, asJSON bool) error {
	if asJSON {
		return rehearsal.WriteJSON(w, rep)
	}
	return rehearsal.WriteMarkdown(w, rep)
}

// rehearseError gives a refused rehearsal (nothing written) exit 2; the
// other errors keep their codes (a failed rehearsal exits 1).
func rehearseError(err error) error {
	var re *rehearsal.RefusedError
	if errors.As(err, &re) {
		return &exitError{code: exitUsage, err: err}
	}
	return err
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/audit"
	"github.com/pgwiden/pgwiden/catalog"
)

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "read-only scan for int2/int4 keys and sequences running out of range",
		Description: "Lists every smallint/integer key column, column fed by a sequence, int4 foreign key to a bigint key\n" +
			"and sequence stopping at or below 2^31-1, with its limit, current value and the fraction used, most\n" +
			"urgent first (by start-by date: exhaustion minus the migration's estimated duration). Exits 3 when any\n" +
			"is above --threshold or on a runway, 6 when none is but some could not be read (no privilege), so it can\n" +
			"run from cron or a monitoring check (--format prometheus --out FILE: docs/monitoring.md).\n" +
			"It writes nothing, except pgwiden.audit_history with --record.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON (format: see README); same as --format json"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json, or prometheus (text exposition format, for node_exporter's textfile collector)"},
			&cli.StringFlag{Name: "out", Usage: "with --format prometheus: write the metrics to this file atomically (temporary file and rename) instead of stdout"},
			&cli.Float64Flag{Name: "rate", Usage: "rows/s a migration copies, for the start-by dates (default: the last backfill recorded in this database, else " +
				fmt.Sprint(audit.DefaultPace.RowsPerSecond) + ")"},
			&cli.Float64Flag{Name: "threshold", Value: audit.DefaultThreshold,
				Usage: "exit 3 when something uses more than this fraction of its range (0 < t <= 1)"},
			&cli.DurationFlag{Name: "sample", Usage: "read the values twice, this long apart, to measure growth (e.g. 30s)"},
			&cli.BoolFlag{Name: "record", Usage: "store the readings in pgwiden.audit_history, so later runs show growth (its only write)"},
		},
		// Flags are checked before connecting, so a typo fails fast with
		// exit 2 whatever the state of the server.
		Before: checkAuditFlags,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("audit: %s (see pgwiden audit --help)", err)
		},
		Action: withEnv(runAudit),
	}
}

func checkAuditFlags(c *cli.Context) error {
	// Written as !(in range) so that NaN is refused too.
	if t := c.Float64("threshold"); !(t > 0 && t <= 1) {
		return usageError("--threshold %v: give a fraction of the range above 0 and at most 1, e.g. 0.8 for 80%%", t)
	}
	if d := c.Duration("sample"); d < 0 {
		return usageError("--sample %s: give a positive duration such as 30s, or leave it out", d)
	}
	if r := c.Float64("rate"); c.IsSet("rate") && !(r > 0) {
		return usageError("--rate %v: give the rows per second a backfill copies, e.g. 5000 (pgwiden rehearse measures it)", r)
	}
	format, err := auditFormat(c)
	if err != nil {
		return err
	}
	if c.String("out") != "" && format != "prometheus" {
		return usageError("--out is for --format prometheus (a file for node_exporter's textfile collector); redirect other formats")
	}
	return nil
}

// auditFormat reads --format, with --json as its older spelling.
func auditFormat(c *cli.Context) (string, error) {
	f := c.String("format")
	if c.Bool("json") {
		if c.IsSet("format") && f != "json" {
			return "", usageError("--json and --format %s: give one of them", f)
		}
		f = "json"
	}
	switch f {
	case "text", "json", "prometheus":
		return f, nil
	}
	return "", usageError("--format %q: use text, json or prometheus", f)
}

func runAudit(ctx context.Context, e *env, c *cli.Context) error {
	snap, err := catalog.Load(ctx, e.pool, nil)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	rep := &audit.Report{Database: snap.Database, Threshold: c.Float64("threshold")}
	if d := c.Duration("sample"); d > 0 {
		err = sampleAudit(ctx, e, snap, d, rep)
	} else {
		err = historyAudit(ctx, e, snap, rep)
	}
	if err != nil {
		return err
	}
	rep.Pace = auditPace(ctx, e, c)
	audit.ApplyStartBy(rep.Findings, snap, rep.Pace)
	audit.Sort(rep.Findings)
	if err := writeAudit(e, c, rep); err != nil {
		return err
	}
	if c.Bool("record") {
		n, err := audit.Record(ctx, e.pool, rep.Findings)
		if err != nil {
			return err
		}
		e.log.Debug().Int("rows", n).Str("table", audit.HistoryTable.String()).Msg("audit recorded")
	}
	switch {
	case rep.Above() > 0:
		return &exitError{code: exitAtRisk}
	case rep.Unknown() > 0:
		return &exitError{code: exitUnknown}
	}
	return nil
}

// auditPace is --rate, else the last backfill recorded in the database,
// else the default.
func auditPace(ctx context.Context, e *env, c *cli.Context) audit.Pace {
	if c.IsSet("rate") {
		return audit.Pace{RowsPerSecond: c.Float64("rate"), From: "--rate"}
	}
	p, ok, err := audit.RecordedPace(ctx, e.pool)
	if err != nil {
		// A monitoring check must not fail on pgwiden's own state (a newer
		// schema, a role that may not read it): the default will do.
		e.log.Warn().Err(err).Msg("audit: no recorded backfill pace, using the default")
	}
	if err != nil || !ok {
		p = audit.DefaultPace
	}
	return p
}

// writeAudit writes the report in the chosen format, to stdout or --out.
func writeAudit(e *env, c *cli.Context, rep *audit.Report) error {
	format, _ := auditFormat(c) // checked before connecting
	switch {
	case format == "prometheus" && c.String("out") != "":
		return audit.WritePrometheusFile(c.String("out"), rep)
	case format == "prometheus":
		return audit.WritePrometheus(e.stdout, rep)
	case format == "json":
		return audit.WriteJSON(e.stdout, rep)
	}
	return audit.WriteText(e.stdout, rep)
}

// sampleAudit reads the values twice, d apart, and takes the growth
// between the two readings.
func sampleAudit(ctx context.Context, e *env, snap *catalog.Snapshot, d time.Duration, rep *audit.Report) error {
	before, err := audit.Scan(ctx, e.pool, snap)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	t0 := time.Now()
	e.log.Info().Dur("sample", d).Msg("audit sampling")
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("audit: interrupted while sampling: %w", ctx.Err())
	case <-timer.C:
	}
	if rep.Findings, err = audit.Scan(ctx, e.pool, snap); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	rep.TakenAt, rep.RatesFrom = time.Now(), "sample"
	audit.ApplySample(rep.Findings, before, t0, rep.TakenAt)
	return nil
}

// historyAudit reads the values once and takes the growth from what
// earlier --record runs stored, if any.
func historyAudit(ctx context.Context, e *env, snap *catalog.Snapshot, rep *audit.Report) error {
	var err error
	if rep.Findings, err = audit.Scan(ctx, e.pool, snap); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	rep.TakenAt = time.Now()
	h, err := audit.ReadHistory(ctx, e.pool, rep.TakenAt.Add(-audit.HistoryWindow))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if len(h) > 0 {
		rep.RatesFrom = "history"
	}
	audit.ApplyHistory(rep.Findings, h, rep.TakenAt)
	return nil
}

package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/internal/format"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/throttle"
)

// engineOptions is the engine's configuration as the command line sets it:
// the migrator's (cfg) and the throttle's (throttle.cfg and its signals).
// Every engine flag is declared once, in flags, and bound to its field here
// with urfave's Destination; a command takes the flags it names. check then
// derives and validates what single flags cannot.
type engineOptions struct {
	cfg         migrator.Config
	throttle    throttleSettings
	walRate     string          // --max-wal-rate as given; throttle.walRate once checked
	maintMem    string          // --maintenance-work-mem as given; cfg.MaintenanceWorkMem once checked
	replicaDSNs cli.StringSlice // --replica-dsn as given; throttle.replicas once checked
}

// newEngineOptions holds the defaults: migrator.DefaultConfig and
// throttle.DefaultConfig, with the lock-waiter signal on.
func newEngineOptions() *engineOptions {
	cfg := migrator.DefaultConfig()
	return &engineOptions{cfg: cfg, throttle: throttleSettings{cfg: throttle.DefaultConfig(), lockWaiters: true},
		maintMem: memSetting(cfg.MaintenanceWorkMem)}
}

// memSetting shows a byte count as a flag's default, "" for 0.
func memSetting(n int64) string {
	if n == 0 {
		return ""
	}
	return format.Bytes(n)
}

// The engine flags the commands take, by group.
var (
	// timeoutFlags bound every statement's waits: every phase and rehearse.
	timeoutFlags = []string{"lock-timeout", "scan-lock-timeout", "statement-timeout"}
	// walkFlags pace the phases that walk tables in batches (the backfill's
	// copy, the cutover's verification) and a rehearsal's.
	walkFlags = []string{"progress-interval", "reconnect-timeout", "async-commit", "workers", "batch-size", "batch-target", "min-batch", "max-batch", "max-rate", "nice-ratio", "signal-interval",
		"lock-waiters", "max-replica-lag", "replica-dsn", "max-xact-age", "max-active", "max-wal-rate", "max-dead-ratio",
		"throttle-query", "pause-file"}
)

// flags returns the named engine flags, bound to o, in the order named.
// Each call makes new flags: urfave/cli flags hold state.
func (o *engineOptions) flags(names ...string) []cli.Flag {
	c, t := &o.cfg, &o.throttle
	th := throttleCategory
	all := []cli.Flag{
		&cli.DurationFlag{Name: "lock-timeout", Value: c.LockTimeout, Destination: &c.LockTimeout,
			Usage: "longest wait for a table lock; the statement is retried later"},
		&cli.DurationFlag{Name: "scan-lock-timeout", Value: c.ScanLockTimeout, Destination: &c.ScanLockTimeout,
			Usage: "longest lock wait of CREATE INDEX CONCURRENTLY and VALIDATE, which block no reads or writes while they wait (an index build waits for older transactions)"},
		&cli.DurationFlag{Name: "statement-timeout", Value: c.StatementTimeout, Destination: &c.StatementTimeout,
			Usage: "bound on catalog-only statements (index builds and validation are not bounded)"},
		&cli.DurationFlag{Name: "progress-interval", Value: c.ProgressEvery, Destination: &c.ProgressEvery,
			Usage: "without a terminal, log progress this often (a final line per table is always logged)"},
		&cli.DurationFlag{Name: "reconnect-timeout", Value: c.ReconnectTimeout, Destination: &c.ReconnectTimeout,
			Usage: "after a lost connection (restart, failover), reconnect with backoff for this long and continue from the last checkpoint (0: stop at once)"},
		&cli.IntFlag{Name: "vacuum-every", Value: c.VacuumEvery, Destination: &c.VacuumEvery, Category: th,
			Usage: "run a plain VACUUM of the table after every N batches, between them, instead of --vacuum-fraction's pacing (0: pace by --vacuum-fraction)"},
		&cli.Float64Flag{Name: "vacuum-fraction", Value: c.VacuumFraction, Destination: &c.VacuumFraction, Category: th,
			Usage: "run a plain VACUUM of the table each time this fraction of it has been copied, and at the end: the table grows by about this fraction instead of doubling, for 1/fraction passes over its indexes (0: never; autovacuum's job)"},
		&cli.IntFlag{Name: "hot-passes", Value: c.HotPasses, Destination: &c.HotPasses,
			Usage: "copy each batch in this many interleaved passes, each its own transaction, so that most rows are updated in place (HOT): less WAL and fewer index entries (1: one UPDATE a batch)"},
		&cli.IntFlag{Name: "workers", Value: c.Workers, Destination: &c.Workers,
			Usage: "walk each table in this many slices at once, each on its own connection and with its own checkpoint; the throttle paces their sum (a walk resumed keeps the slices it began with)"},
		&cli.BoolFlag{Name: "async-commit", Value: c.AsyncCommit, Destination: &c.AsyncCommit,
			Usage: "commit each batch with synchronous_commit=off: less waiting for WAL flushes; a server crash loses the last batches with their checkpoints, which the walk redoes (--async-commit=false: off)"},
		&cli.StringFlag{Name: "maintenance-work-mem", Value: o.maintMem, Destination: &o.maintMem,
			Usage: "at least this maintenance_work_mem for pgwiden's index builds and vacuums (a larger server setting is kept; empty: the server's)"},
		&cli.IntFlag{Name: "maintenance-workers", Value: c.MaintenanceWorkers, Destination: &c.MaintenanceWorkers,
			Usage: "max_parallel_maintenance_workers for pgwiden's index builds (-1: the server's setting)"},
		&cli.BoolFlag{Name: "wal-compression", Value: c.CompressWAL, Destination: &c.CompressWAL,
			Usage: "compress the full-page images in the backfill's WAL (SET LOCAL wal_compression=on when the server has it off; needs a superuser or, on PostgreSQL 15+, SET privilege on it; skipped otherwise)"},
		&cli.BoolFlag{Name: "disable-user-triggers", Value: c.DisableUserTriggers, Destination: &c.DisableUserTriggers,
			Usage: "do not fire the tables' own triggers on the copy (session_replication_role=replica; superuser only)"},
		&cli.IntFlag{Name: "max-attempts", Value: c.SwapAttempts, Destination: &c.SwapAttempts, Usage: "swap attempts before giving up"},
		&cli.StringFlag{Name: "postpone-file", Value: c.PostponeFile, Destination: &c.PostponeFile,
			Usage: "while this file exists, wait before the swap (delete it to swap at a quiet moment)"},

		&cli.IntFlag{Name: "batch-size", Value: t.cfg.StartBatch, Destination: &t.cfg.StartBatch, Category: th,
			Usage: "rows in the first batch; later batches adapt to --batch-target"},
		&cli.DurationFlag{Name: "batch-target", Value: t.cfg.TargetBatch, Destination: &t.cfg.TargetBatch, Category: th,
			Usage: "aim for batches that take this long: sizes grow and shrink to stay near it"},
		&cli.IntFlag{Name: "min-batch", Value: t.cfg.MinBatch, Destination: &t.cfg.MinBatch, Category: th, Usage: "never fewer rows per batch"},
		&cli.IntFlag{Name: "max-batch", Value: t.cfg.MaxBatch, Destination: &t.cfg.MaxBatch, Category: th, Usage: "never more rows per batch"},
		&cli.Float64Flag{Name: "max-rate", Value: t.cfg.MaxRate, Destination: &t.cfg.MaxRate, Category: th,
			Usage: "at most this many rows per second (0: no limit; pgwiden throttle overrides it while running)"},
		&cli.Float64Flag{Name: "nice-ratio", Value: t.cfg.NiceRatio, Destination: &t.cfg.NiceRatio, Category: th,
			Usage: "after each batch, rest for this multiple of its duration (0.5: the walk is busy two thirds of the time; 0: no rest)"},
		&cli.DurationFlag{Name: "signal-interval", Value: t.cfg.SignalEvery, Destination: &t.cfg.SignalEvery, Category: th,
			Usage: "read the signals (and pgwiden pause/throttle) this often"},
		&cli.BoolFlag{Name: "lock-waiters", Value: t.lockWaiters, Destination: &t.lockWaiters, Category: th,
			Usage: "hold while a session waits for a lock on a table being walked (--lock-waiters=false: off)"},
		&cli.DurationFlag{Name: "max-replica-lag", Destination: &t.replicaLag, Category: th,
			Usage: "hold while a standby lags more than this: every one in the primary's pg_stat_replication, or only the --replica-dsn ones (0: off)"},
		&cli.StringSliceFlag{Name: "replica-dsn", Destination: &o.replicaDSNs, Category: th,
			Usage: "NAME=DSN of a standby to measure on itself, instead of the primary's view; also holds while its replay is paused (repeatable; needs --max-replica-lag)"},
		&cli.DurationFlag{Name: "max-xact-age", Destination: &t.xactAge, Category: th,
			Usage: "hold while another session's transaction that holds back vacuum has been open longer than this (0: off)"},
		&cli.IntFlag{Name: "max-active", Destination: &t.maxActive, Category: th,
			Usage: "hold while more than this many sessions are active on the server (0: off)"},
		&cli.StringFlag{Name: "max-wal-rate", Destination: &o.walRate, Category: th,
			Usage: "hold while the server writes WAL faster than this per second, e.g. 50MB (empty: off)"},
		&cli.Float64Flag{Name: "max-dead-ratio", Destination: &t.deadRatio, Category: th,
			Usage: "hold while dead rows exceed this fraction of a walked table's rows, e.g. 0.2 (0: off)"},
		&cli.StringFlag{Name: "throttle-query", Destination: &t.query, Category: th,
			Usage: "hold while this query returns true (one boolean column and row; NULL is false), e.g. 'SELECT now()::time BETWEEN ''09:00'' AND ''18:00'''"},
		&cli.StringFlag{Name: "pause-file", Destination: &t.pauseFile, Category: th, Usage: "hold while this file exists"},
	}
	var out []cli.Flag
	for _, name := range names {
		for _, f := range all {
			if f.Names()[0] == name {
				out = append(out, f)
			}
		}
	}
	return out
}

// check derives what depends on several flags and refuses, before
// connecting, what cannot work (exit 2). A command without a flag keeps
// its default. It may be called more than once.
func (o *engineOptions) check(c *cli.Context) error {
	t := &o.throttle
	def := throttle.DefaultConfig()
	if c.IsSet("batch-size") {
		// A first batch outside the default bounds moves the bound the
		// operator did not set: --batch-size 50 asks for small batches.
		if !c.IsSet("min-batch") {
			t.cfg.MinBatch = min(def.MinBatch, max(t.cfg.StartBatch, 1))
		}
		if !c.IsSet("max-batch") {
			t.cfg.MaxBatch = max(def.MaxBatch, t.cfg.StartBatch)
		}
	}
	if c.IsSet("signal-interval") && t.cfg.SignalEvery > 0 {
		// A hold is re-checked as often as signals are read, so that a
		// short --signal-interval also releases a hold quickly.
		t.cfg.HoldPoll = min(def.HoldPoll, t.cfg.SignalEvery)
	}
	t.query = strings.TrimSpace(t.query)
	mem, err := format.ParseBytes(o.maintMem)
	if err != nil {
		return usageError("--maintenance-work-mem %q: %s (use a size such as 256MB or 1GB, or empty for the server's setting)", o.maintMem, err)
	}
	o.cfg.MaintenanceWorkMem = int64(mem)
	if err := o.cfg.Validate(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := t.cfg.Validate(); err != nil {
		return usageError("%s (see --batch-size, --min-batch, --max-batch, --batch-target, --max-rate, --signal-interval)", err)
	}
	if t.walRate, err = format.ParseBytes(o.walRate); err != nil {
		return usageError("--max-wal-rate %q: %s (use bytes per second, e.g. 50MB or 1.5GB)", o.walRate, err)
	}
	if t.replicas, err = parseReplicas(o.replicaDSNs.Value()); err != nil {
		return err
	}
	switch {
	case t.replicaLag < 0 || t.xactAge < 0 || t.maxActive < 0 || t.deadRatio < 0:
		return usageError("--max-replica-lag, --max-xact-age, --max-active and --max-dead-ratio must be 0 (off) or positive")
	case len(t.replicas) > 0 && t.replicaLag == 0:
		return usageError("--replica-dsn needs --max-replica-lag: the lag to hold at")
	case t.deadRatio > 1:
		return usageError("--max-dead-ratio is a fraction of the table's rows, between 0 and 1")
	case o.cfg.StatementTimeout < 0:
		return usageError("--statement-timeout must be 0 (no limit) or positive")
	case o.cfg.ProgressEvery <= 0:
		return usageError("--progress-interval must be positive, e.g. 10s")
	}
	return nil
}

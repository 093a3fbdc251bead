package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/internal/format"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// The throttle's governor must fit the migrator, and show its state while
// a walk waits in it.
var (
	_ migrator.Governor    = (*throttle.Controller)(nil)
	_ migrator.Snapshotter = (*throttle.Controller)(nil)
)

const throttleCategory = "throttle (README: Throttle)"

// throttleFlags are the flags of the phases that walk tables in batches
// (backfill, cutover): how a batch is sized and paced, and the signals
// that hold the walk. Health signals are off unless their flag is set,
// except lock waiters: a session queued behind pgwiden is always a reason
// to yield. Defaults come from throttle.DefaultConfig.
func throttleFlags(def migrator.Config) []cli.Flag {
	tdef := throttle.DefaultConfig()
	flags := []cli.Flag{
		&cli.IntFlag{Name: "batch-size", Value: tdef.StartBatch, Usage: "rows in the first batch; later batches adapt to --batch-target"},
		&cli.DurationFlag{Name: "batch-target", Value: tdef.TargetBatch, Usage: "aim for batches that take this long: sizes grow and shrink to stay near it"},
		&cli.IntFlag{Name: "min-batch", Value: tdef.MinBatch, Usage: "never fewer rows per batch"},
		&cli.IntFlag{Name: "max-batch", Value: tdef.MaxBatch, Usage: "never more rows per batch"},
		&cli.Float64Flag{Name: "max-rate", Value: def.MaxRate, Usage: "at most this many rows per second (0: no limit; pgwiden throttle overrides it while running)"},
		&cli.DurationFlag{Name: "signal-interval", Value: tdef.SignalEvery, Usage: "read the signals (and pgwiden pause/throttle) this often"},
		&cli.BoolFlag{Name: "lock-waiters", Value: true, Usage: "hold while a session waits for a lock on a table being walked (--lock-waiters=false: off)"},
		&cli.DurationFlag{Name: "max-replica-lag", Usage: "hold while a standby lags more than this: every one in the primary's pg_stat_replication, or only the --replica-dsn ones (0: off)"},
		&cli.StringSliceFlag{Name: "replica-dsn", Usage: "NAME=DSN of a standby to measure on itself, instead of the primary's view; also holds while its replay is paused (repeatable; needs --max-replica-lag)"},
		&cli.DurationFlag{Name: "max-xact-age", Usage: "hold while another session's transaction that holds back vacuum has been open longer than this (0: off)"},
		&cli.IntFlag{Name: "max-active", Usage: "hold while more than this many sessions are active on the server (0: off)"},
		&cli.StringFlag{Name: "max-wal-rate", Usage: "hold while the server writes WAL faster than this per second, e.g. 50MB (empty: off)"},
		&cli.Float64Flag{Name: "max-dead-ratio", Usage: "hold while dead rows exceed this fraction of a walked table's rows, e.g. 0.2 (0: off)"},
		&cli.StringFlag{Name: "throttle-query", Usage: "hold while this query returns true (one boolean column and row; NULL is false), e.g. 'SELECT now()::time BETWEEN ''09:00'' AND ''18:00'''"},
		&cli.StringFlag{Name: "pause-file", Usage: "hold while this file exists"},
	}
	for _, f := range flags {
		setCategory(f, throttleCategory)
	}
	return flags
}

func setCategory(f cli.Flag, cat string) {
	switch f := f.(type) {
	case *cli.IntFlag:
		f.Category = cat
	case *cli.DurationFlag:
		f.Category = cat
	case *cli.Float64Flag:
		f.Category = cat
	case *cli.BoolFlag:
		f.Category = cat
	case *cli.StringFlag:
		f.Category = cat
	case *cli.StringSliceFlag:
		f.Category = cat
	}
}

// throttleSettings is what the throttle flags say, checked before
// connecting so that a typo fails fast with exit 2.
type throttleSettings struct {
	cfg         throttle.Config
	lockWaiters bool
	replicaLag  time.Duration
	replicas    []replica
	xactAge     time.Duration
	maxActive   int
	walRate     float64 // bytes per second
	deadRatio   float64
	query       string
	pauseFile   string
}

// replica is one --replica-dsn.
type replica struct {
	name string
	cfg  *pgxpool.Config
}

// throttleSettingsFrom reads the throttle flags; a command without them
// gets the defaults (an adaptive batch and the lock-waiter signal).
func throttleSettingsFrom(c *cli.Context) (throttleSettings, error) {
	s := throttleSettings{cfg: throttle.DefaultConfig(), lockWaiters: true}
	if c.IsSet("batch-size") {
		// A first batch outside the default bounds moves the bound the
		// operator did not set: --batch-size 50 asks for small batches.
		s.cfg.StartBatch = c.Int("batch-size")
		s.cfg.MinBatch = min(s.cfg.MinBatch, max(s.cfg.StartBatch, 1))
		s.cfg.MaxBatch = max(s.cfg.MaxBatch, s.cfg.StartBatch)
	}
	if c.IsSet("batch-target") {
		s.cfg.TargetBatch = c.Duration("batch-target")
	}
	if c.IsSet("min-batch") {
		s.cfg.MinBatch = c.Int("min-batch")
	}
	if c.IsSet("max-batch") {
		s.cfg.MaxBatch = c.Int("max-batch")
	}
	if c.IsSet("max-rate") {
		s.cfg.MaxRate = c.Float64("max-rate")
	}
	if c.IsSet("signal-interval") {
		s.cfg.SignalEvery = c.Duration("signal-interval")
		// A hold is re-checked as often as signals are read, so that a
		// short --signal-interval also releases a hold quickly.
		if s.cfg.SignalEvery > 0 {
			s.cfg.HoldPoll = min(s.cfg.HoldPoll, s.cfg.SignalEvery)
		}
	}
	if c.IsSet("lock-waiters") {
		s.lockWaiters = c.Bool("lock-waiters")
	}
	s.replicaLag, s.xactAge, s.maxActive = c.Duration("max-replica-lag"), c.Duration("max-xact-age"), c.Int("max-active")
	s.deadRatio, s.query, s.pauseFile = c.Float64("max-dead-ratio"), strings.TrimSpace(c.String("throttle-query")), c.String("pause-file")
	if err := s.cfg.Validate(); err != nil {
		return s, usageError("%s (see --batch-size, --min-batch, --max-batch, --batch-target, --max-rate, --signal-interval)", err)
	}
	var err error
	if s.walRate, err = format.ParseBytes(c.String("max-wal-rate")); err != nil {
		return s, usageError("--max-wal-rate %q: %s (use bytes per second, e.g. 50MB or 1.5GB)", c.String("max-wal-rate"), err)
	}
	if s.replicas, err = parseReplicas(c.StringSlice("replica-dsn")); err != nil {
		return s, err
	}
	switch {
	case s.replicaLag < 0 || s.xactAge < 0 || s.maxActive < 0 || s.deadRatio < 0:
		return s, usageError("--max-replica-lag, --max-xact-age, --max-active and --max-dead-ratio must be 0 (off) or positive")
	case len(s.replicas) > 0 && s.replicaLag == 0:
		return s, usageError("--replica-dsn needs --max-replica-lag: the lag to hold at")
	case s.deadRatio > 1:
		return s, usageError("--max-dead-ratio is a fraction of the table's rows, between 0 and 1")
	}
	return s, nil
}

// replicaName is what a --replica-dsn may be called: it shows in reasons.
var replicaName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func parseReplicas(specs []string) ([]replica, error) {
	var out []replica
	seen := map[string]bool{}
	for _, spec := range specs {
		name, dsn, ok := strings.Cut(spec, "=")
		if !ok || !replicaName.MatchString(name) || dsn == "" {
			return nil, usageError("--replica-dsn %q: use NAME=DSN, e.g. replica-1=postgres://monitor@10.0.0.2/app", redact(spec))
		}
		if seen[name] {
			return nil, usageError("--replica-dsn: the name %s is given twice", name)
		}
		seen[name] = true
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, usageError("--replica-dsn %s: %s", name, redact(err.Error()))
		}
		out = append(out, replica{name: name, cfg: cfg})
	}
	return out, nil
}

// newGovernor builds the throttle controller of one phase from its flags,
// with the signals they turn on. plan is the target's migration's plan (nil
// before prepare): its walked tables are what the table signals watch. The
// operator signal (migrator.Operator) carries pgwiden pause and throttle
// from the target's row in pgwiden.migrations. The returned close releases
// the standbys' connections.
func newGovernor(ctx context.Context, e *env, c *cli.Context, st *state.Store, t planner.Target, plan *planner.Plan) (*throttle.Controller, func(), error) {
	s, err := throttleSettingsFrom(c)
	if err != nil {
		return nil, nil, err
	}
	var tables []string
	if plan != nil {
		tables = migrator.WalkedTables(plan)
	}
	signals, pools, err := s.signals(ctx, e, tables, e.global.connectTimeout)
	closeAll := func() {
		for _, p := range pools {
			p.Close()
		}
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	log := e.log.With().Str("component", "throttle").Logger()
	op := migrator.NewOperator(st, t, s.cfg.MaxRate, log)
	ctrl := throttle.NewController(s.cfg, append(signals, op), throttle.RealClock, log)
	op.Attach(ctrl)
	return ctrl, closeAll, nil
}

// signals builds the signals the settings turn on. Signals on the primary
// read through the phase's pool; each standby gets a pool of one
// connection, opened now so that a wrong --replica-dsn fails at once.
func (s throttleSettings) signals(ctx context.Context, e *env, tables []string, connectTimeout time.Duration) ([]throttle.Signal, []*pgxpool.Pool, error) {
	var out []throttle.Signal
	if s.lockWaiters && len(tables) > 0 {
		out = append(out, throttle.LockWaiters(e.pool, tables))
	}
	if s.replicaLag > 0 && len(s.replicas) == 0 {
		// Without --replica-dsn, every walsender the primary shows. With
		// it, only the standbys named, measured on themselves: the primary
		// also shows logical subscribers and backup tools, whose lag the
		// operator may not want to wait for (README: Throttle).
		out = append(out, throttle.ReplicationLag(e.pool, s.replicaLag))
	}
	if s.xactAge > 0 {
		out = append(out, throttle.XminAge(e.pool, s.xactAge))
	}
	if s.maxActive > 0 {
		out = append(out, throttle.ActiveBackends(e.pool, s.maxActive))
	}
	if s.walRate > 0 {
		out = append(out, throttle.WALRate(e.pool, s.walRate, throttle.RealClock))
	}
	if s.deadRatio > 0 && len(tables) > 0 {
		out = append(out, throttle.DeadTuples(e.pool, tables, s.deadRatio))
	}
	if s.query != "" {
		out = append(out, throttle.CustomQuery(e.pool, s.query))
	}
	if s.pauseFile != "" {
		out = append(out, throttle.PauseFile(s.pauseFile))
	}
	var pools []*pgxpool.Pool
	for _, r := range s.replicas {
		r.cfg.MaxConns = 1
		r.cfg.ConnConfig.RuntimeParams["application_name"] = "pgwiden"
		if t := r.cfg.ConnConfig.ConnectTimeout; t == 0 || t > connectTimeout {
			r.cfg.ConnConfig.ConnectTimeout = connectTimeout
		}
		pool, err := pgxpool.NewWithConfig(ctx, r.cfg)
		if err == nil {
			if err = pool.Ping(ctx); err != nil {
				pool.Close()
			}
		}
		if err != nil {
			return nil, pools, fmt.Errorf("connect to replica %s (%s): %s (check --replica-dsn)", r.name, describe(r.cfg), redact(err.Error()))
		}
		pools = append(pools, pool)
		out = append(out, throttle.StandbyLag(r.name, pool, s.replicaLag))
	}
	return out, pools, nil
}

// controlCommands are pause, resume and throttle: they steer a running
// backfill or verification from another terminal or host, through the
// job's row in pgwiden.migrations, and never take the migration's lock.
func controlCommands() []*cli.Command {
	onUsage := func(name string) cli.OnUsageErrorFunc {
		return func(_ *cli.Context, err error, _ bool) error {
			return usageError("%s: %s (see pgwiden %s --help)", name, err, name)
		}
	}
	return []*cli.Command{
		{
			Name:  "pause",
			Usage: "hold a migration's backfill or verification between two batches, from any host (takes effect within its --signal-interval)",
			Description: "Sets paused in pgwiden.migrations. A running backfill or cutover verification reads it every\n" +
				"--signal-interval and waits between two batches, its transaction committed; one started later\n" +
				"starts paused. pgwiden resume continues it.",
			Flags:        targetFlags(),
			OnUsageError: onUsage("pause"),
			Action:       withEnv(runControl("pause")),
		},
		{
			Name:         "resume",
			Usage:        "continue a migration held by pgwiden pause",
			Flags:        targetFlags(),
			OnUsageError: onUsage("resume"),
			Action:       withEnv(runControl("resume")),
		},
		{
			Name:  "throttle",
			Usage: "set the rows per second of a migration's running backfill or verification (--max-rate 0 gives it back its own --max-rate)",
			Flags: append(targetFlags(), &cli.IntFlag{Name: "max-rate", Required: true,
				Usage: "rows per second, taken within the running phase's --signal-interval; 0 clears it"}),
			OnUsageError: onUsage("throttle"),
			Action:       withEnv(runControl("throttle")),
		},
	}
}

// runControl sets the job's pause or rate and says what will happen.
func runControl(cmd string) func(context.Context, *env, *cli.Context) error {
	return func(ctx context.Context, e *env, c *cli.Context) error {
		t, err := targetFrom(c)
		if err != nil {
			return err
		}
		rate := c.Int("max-rate")
		if rate < 0 {
			return usageError("throttle: --max-rate must be 0 (clear) or positive")
		}
		st, err := state.Open(ctx, e.pool, e.log)
		if err != nil {
			return err
		}
		job, err := st.Peek(ctx, t)
		if err != nil {
			return err
		}
		if job == nil {
			return usageError("%s: %s has no unfinished migration (pgwiden status lists them)", cmd, t)
		}
		var what string
		switch cmd {
		case "pause":
			err, what = st.SetPaused(ctx, job.ID, true), "paused"
		case "resume":
			err, what = st.SetPaused(ctx, job.ID, false), "resumed"
		default:
			err, what = st.SetMaxRate(ctx, job.ID, rate), fmt.Sprintf("max rate %d rows/s", rate)
			if rate == 0 {
				what = "max rate cleared (the running phase's --max-rate applies)"
			}
		}
		if err != nil {
			return err
		}
		running, err := isRunning(ctx, e, st, job.ID)
		if err != nil {
			return err
		}
		when := "no pgwiden process runs it now: the next backfill or cutover starts with it"
		if running {
			when = "the running phase takes it within its --signal-interval"
		}
		_, err = fmt.Fprintf(e.stdout, "%s: migration %d (%s) %s; %s\n", cmd, job.ID, t, what, when)
		return err
	}
}

// isRunning reports whether a pgwiden process holds job id's lock now.
func isRunning(ctx context.Context, e *env, st *state.Store, id int64) (bool, error) {
	all, err := migrator.ReadStatus(ctx, e.pool, st)
	if err != nil {
		return false, err
	}
	for _, s := range all {
		if s.Job.ID == id {
			return s.Holder != nil, nil
		}
	}
	return false, nil
}

package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/internal/dsn"
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

// throttleSettings is what the throttle flags say (engineOptions), checked
// before connecting so that a typo fails fast with exit 2.
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

// replicaName is what a --replica-dsn may be called: it shows in reasons.
var replicaName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func parseReplicas(specs []string) ([]replica, error) {
	var out []replica
	seen := map[string]bool{}
	for _, spec := range specs {
		name, s, ok := strings.Cut(spec, "=")
		if !ok || !replicaName.MatchString(name) || s == "" {
			return nil, usageError("--replica-dsn %q: use NAME=DSN, e.g. replica-1=postgres://monitor@10.0.0.2/app", dsn.Redact(spec))
		}
		if seen[name] {
			return nil, usageError("--replica-dsn: the name %s is given twice", name)
		}
		seen[name] = true
		cfg, err := dsn.Parse("--replica-dsn "+name, s)
		if err != nil {
			return nil, err
		}
		out = append(out, replica{name: name, cfg: cfg})
	}
	return out, nil
}

// newGovernor builds the throttle controller of one phase from its flags (s),
// with the signals they turn on. plan is the target's migration's plan (nil
// before prepare): its walked tables are what the table signals watch. The
// operator signal (migrator.Operator) carries pgwiden pause and throttle
// from the target's row in pgwiden.migrations. The returned close releases
// the standbys' connections.
func newGovernor(ctx context.Context, e *env, s throttleSettings, st *state.Store, t planner.Target, plan *planner.Plan) (*throttle.Controller, func(), error) {
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
		pool, err := dsn.OpenConfig(ctx, r.cfg, dsn.Options{Flag: "--replica-dsn " + r.name, App: "pgwiden", MaxConns: 1, ConnectTimeout: connectTimeout})
		if err != nil {
			return nil, pools, err
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

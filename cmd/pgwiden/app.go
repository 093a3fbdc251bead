package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/internal/format"
	"github.com/pgwiden/pgwiden/migrator"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

// env is what every command gets: the connection pool, a logger and the
// output streams. withEnv builds it once per invocation.
type env struct {
	pool   *pgxpool.Pool
	log    zerolog.Logger
	global globalOptions
	stdout io.Writer
	stderr io.Writer
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "pgwiden",
		Usage:     "widen int4/int2 key columns of a live PostgreSQL database to bigint without downtime",
		Version:   version,
		Writer:    stdout,
		ErrWriter: stderr,
		// urfave must never call os.Exit itself: main maps errors to codes.
		ExitErrHandler: func(*cli.Context, error) {},
		Flags:          globalFlags(true),
		Commands: append(append([]*cli.Command{
			auditCommand(),
			planCommand(),
			statusCommand(),
			rehearseCommand(),
			runwayCommand(),
		}, phaseCommands()...), controlCommands()...),
	}
	// urfave/cli v2 has no inherited flags: each command gets its own copy
	// of the global ones (flags hold state), so that they work before or
	// after the command's name.
	for _, cmd := range app.Commands {
		cmd.Flags = append(cmd.Flags, globalFlags(false)...)
	}
	return app
}

// globalOptions are the global flags' values.
type globalOptions struct {
	dsn            string
	logFormat      string
	logLevel       string
	connectTimeout time.Duration
}

const globalCategory = "global (also before the command)"

// globalFlags are the flags every command takes, before or after its
// name: `pgwiden --log-format json prepare ...` and `pgwiden prepare
// --log-format json ...` are the same. Only the application's copy reads
// the environment (env), so that a flag given after the command wins over
// the environment as much as one given before it (globalsFrom).
func globalFlags(env bool) []cli.Flag {
	dsn := &cli.StringFlag{Name: "dsn", Category: globalCategory,
		Usage: "connection string (URL or key=value); empty uses libpq's PG* variables (env PGWIDEN_DSN, DATABASE_URL)"}
	if env {
		dsn.EnvVars = []string{"PGWIDEN_DSN", "DATABASE_URL"}
	}
	return []cli.Flag{
		dsn,
		&cli.StringFlag{Name: "log-format", Value: "auto", Usage: "auto, console or json", Category: globalCategory},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "trace, debug, info, warn or error", Category: globalCategory},
		&cli.DurationFlag{Name: "connect-timeout", Value: 10 * time.Second, Usage: "give up connecting after this long", Category: globalCategory},
	}
}

// globalsFrom reads the global flags: from the command's own copy when
// given after the command's name, else from the application's (given
// before it, or from the environment), else their defaults.
func globalsFrom(c *cli.Context) globalOptions {
	from := func(name string) *cli.Context {
		for _, x := range c.Lineage() {
			if x.Command != nil && x.IsSet(name) {
				return x
			}
		}
		return c
	}
	return globalOptions{
		dsn:            from("dsn").String("dsn"),
		logFormat:      from("log-format").String("log-format"),
		logLevel:       from("log-level").String("log-level"),
		connectTimeout: from("connect-timeout").Duration("connect-timeout"),
	}
}

// withEnv wraps a command action: it builds the logger and the pool, runs f,
// and closes the pool.
func withEnv(f func(ctx context.Context, e *env, c *cli.Context) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		g := globalsFrom(c)
		log, err := newLogger(g.logFormat, g.logLevel, c.App.ErrWriter)
		if err != nil {
			return err
		}
		pool, err := connect(c.Context, g.dsn, g.connectTimeout, c.Int("workers"))
		if err != nil {
			return err
		}
		defer pool.Close()
		e := &env{pool: pool, log: log, global: g, stdout: c.App.Writer, stderr: c.App.ErrWriter}
		return f(c.Context, e, c)
	}
}

// newLogger logs for humans on a terminal and as JSON lines otherwise (or
// when asked), always to stderr so stdout stays clean for --json output.
func newLogger(format, level string, w io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), usageError("--log-level %q: use trace, debug, info, warn or error", level)
	}
	out, err := logWriter(format, w)
	if err != nil {
		return zerolog.Nop(), err
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}

// logWriter is where log lines go for --log-format: console lines on a
// terminal (auto) or when asked, JSON lines otherwise.
func logWriter(format string, w io.Writer) (io.Writer, error) {
	switch format {
	case "json":
		return w, nil
	case "console":
		return consoleWriter(w), nil
	case "auto":
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			return consoleWriter(w), nil
		}
		return w, nil
	}
	return nil, usageError("--log-format %q: use auto, console or json", format)
}

// consoleWriter writes log lines for people: durations read took=5.1ms,
// not took=5.078184 (JSON lines keep float milliseconds, for machines).
// zerolog's duration format is process-wide; this process then logs
// only to the console, so durations are logged as text (5.078184ms) and
// rounded here (format.Duration).
func consoleWriter(w io.Writer) zerolog.ConsoleWriter {
	zerolog.DurationFieldFormat = zerolog.DurationFormatString
	return zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, FormatPrepare: roundDurations}
}

// roundDurations rewrites the fields that hold a duration as text
// ("5.078184ms") with format.Duration ("5.1ms").
func roundDurations(ev map[string]any) error {
	for k, v := range ev {
		s, ok := v.(string)
		if !ok || s == "" || k == zerolog.MessageFieldName || s[len(s)-1] < 'a' || s[len(s)-1] > 'z' {
			continue
		}
		if d, err := time.ParseDuration(s); err == nil {
			ev[k] = format.Duration(d)
		}
	}
	return nil
}

// connect opens pgwiden's pool: one or two connections (one holds the
// migration's lock), and with --workers N (workers; 0 for a command
// without it) one more per worker, tagged application_name=pgwiden so DBAs
// can find them in pg_stat_activity.
func connect(ctx context.Context, s string, timeout time.Duration, workers int) (*pgxpool.Pool, error) {
	conns := int32(2)
	if workers > 1 {
		// A worker each, the lock's, and one for a VACUUM between batches
		// or the state's writes while every worker is in a batch.
		conns = int32(min(workers, 1024)) + 2
	}
	return dsn.Open(ctx, s, dsn.Options{Flag: "--dsn", App: "pgwiden", MaxConns: conns, ConnectTimeout: timeout,
		Configure: []func(*pgxpool.Config){migrator.ConfigureSession}})
}

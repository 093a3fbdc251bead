package dsn

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ParseError is a DSN that does not parse. Flag says where it came from
// ("--dsn"); the message never holds the password.
type ParseError struct {
	Flag string
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: %s (use postgres://user@host:port/db or host=... dbname=...)", e.Flag, Redact(e.Err.Error()))
}

// Unwrap returns pgx's error.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse parses a pool configuration from s, given by flag; an error is a
// *ParseError.
func Parse(flag, s string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(s)
	if err != nil {
		return nil, &ParseError{Flag: flag, Err: err}
	}
	return cfg, nil
}

// Options are the session settings of a pool pgwiden opens.
type Options struct {
	// Flag names the DSN's source in errors, e.g. "--dsn".
	Flag string
	// App is the application_name DBAs see in pg_stat_activity.
	App      string
	MaxConns int32
	// ConnectTimeout bounds each connection attempt; a shorter
	// connect_timeout in the DSN wins.
	ConnectTimeout time.Duration
	// Params are more session settings (RuntimeParams).
	Params map[string]string
	// Configure changes the pool's configuration before it opens, e.g.
	// to set session settings after connecting (migrator.ConfigureSession).
	Configure []func(*pgxpool.Config)
}

// Open parses s and opens a pool with o's settings (OpenConfig).
func Open(ctx context.Context, s string, o Options) (*pgxpool.Pool, error) {
	cfg, err := Parse(o.Flag, s)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg, o)
}

// OpenConfig opens a pool with o's settings and checks that the server
// answers; the error names the server, never the password.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, o Options) (*pgxpool.Pool, error) {
	cfg.MaxConns = o.MaxConns
	for _, f := range o.Configure {
		f(cfg)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = o.App
	for k, v := range o.Params {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	if t := cfg.ConnConfig.ConnectTimeout; t == 0 || t > o.ConnectTimeout {
		cfg.ConnConfig.ConnectTimeout = o.ConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		if err = pool.Ping(ctx); err != nil {
			pool.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: connect to %s: %s (check %s and that the server is up)", o.Flag, DescribeConfig(&cfg.ConnConfig.Config), Redact(err.Error()), o.Flag)
	}
	return pool, nil
}

// DescribeConfig names a server for messages from its database, user,
// host and port only, as pgconn's ConnectError does.
func DescribeConfig(c *pgconn.Config) string {
	return fmt.Sprintf("database %q as user %q on %s:%d", c.Database, c.User, c.Host, c.Port)
}

// Describe is DescribeConfig of a DSN.
func Describe(s string) string {
	cfg, err := pgconn.ParseConfig(s)
	if err != nil {
		return "(unparsable DSN)"
	}
	return DescribeConfig(cfg)
}

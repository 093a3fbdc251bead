package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/internal/pgserver"
)

// demoDB is the database the demo creates and pgwiden works on.
const demoDB = "demo"

// demo is what the steps share. A later step that runs a writer in the
// background keeps its handle here too, so that tearDown can stop it.
type demo struct {
	pgwiden        string // path of the binary under demonstration
	stdout, stderr io.Writer

	srv  *pgserver.Server
	dsn  string    // the demo database, as given to pgwiden --dsn
	conn *pgx.Conn // the demo's own session on it

	// surprises are the pgwiden commands that ended in a way the demo does
	// not expect; they fail the demo once everything else has run.
	surprises []string

	// writer plays the application while pgwiden migrates.
	writer *writer
}

// say prints one line of the demo's own narration, set apart from the
// output of the commands it runs.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.stdout, "==> "+format+"\n", args...)
}

// setUp starts the server and creates the demo database.
func (d *demo) setUp(ctx context.Context) error {
	d.say("finding a PostgreSQL server as the integration tests do (PGWIDEN_TEST_DSN, local binaries, Docker)")
	srv, err := pgserver.Start(ctx, pgserver.Options{})
	if err != nil {
		return fmt.Errorf("%w\n\n%s", err, pgserver.HowToProvide)
	}
	d.srv = srv
	d.say("server: %s", srv.Describe())
	if err := d.createDB(ctx); err != nil {
		return err
	}
	if d.conn, err = pgx.Connect(ctx, d.dsn); err != nil {
		return fmt.Errorf("connect to database %s: %w", demoDB, err)
	}
	d.say("created database %s: %s", demoDB, dsn.Describe(d.dsn))
	return nil
}

// createDB creates the demo database. On the user's own server
// (PGWIDEN_TEST_DSN) an existing "demo" is left alone: it may not be ours.
func (d *demo) createDB(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, d.srv.AdminDSN())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", dsn.Describe(d.srv.AdminDSN()), err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{demoDB}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database
			return fmt.Errorf("create database %s: it already exists on %s; drop it, or unset PGWIDEN_TEST_DSN to use a throwaway server",
				demoDB, dsn.Describe(d.srv.AdminDSN()))
		}
		return fmt.Errorf("create database %s: %w", demoDB, err)
	}
	d.dsn, err = dsn.WithDatabase(d.srv.AdminDSN(), demoDB)
	return err
}

// runSteps runs the steps in order, each under its header, and stops at
// the first error (pgwiden's own failures are not errors, see pgwidenStep).
func (d *demo) runSteps(ctx context.Context, steps []step) error {
	for _, s := range steps {
		fmt.Fprintln(d.stdout, s.header)
		if err := s.run(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", s.header, err)
		}
	}
	return nil
}

// tearDown drops what setUp made. It has its own context: after Ctrl-C
// the demo's is cancelled, and cleaning up is the point.
func (d *demo) tearDown() error {
	if d.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fmt.Fprintln(d.stdout)
	var errs []error
	if d.writer != nil {
		d.writer.stop()
	}
	if d.conn != nil {
		errs = append(errs, d.conn.Close(ctx))
	}
	if d.srv.Kind() == pgserver.KindDSN && d.dsn != "" {
		if err := d.dropDB(ctx); err != nil {
			errs = append(errs, err)
		} else {
			d.say("dropped database %s; your server keeps running", demoDB)
		}
	}
	if err := d.srv.Stop(); err != nil {
		errs = append(errs, fmt.Errorf("stop the %s server: %w", d.srv.Kind(), err))
	} else if d.srv.Kind() != pgserver.KindDSN {
		d.say("stopped the %s server and removed it", d.srv.Kind())
	}
	return errors.Join(errs...)
}

// dropDB drops the demo database from the user's server; every session on
// it (the demo's, pgwiden's) is closed by now.
func (d *demo) dropDB(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, d.srv.AdminDSN())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", dsn.Describe(d.srv.AdminDSN()), err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{demoDB}.Sanitize()); err != nil {
		return fmt.Errorf("drop database %s: %w", demoDB, err)
	}
	return nil
}

// report prints how the demo ended and returns the exit code. After Ctrl-C
// the error of the step it interrupted is only its echo and is not shown;
// a failed cleanup always is.
func (d *demo) report(ctx context.Context, err, cleanupErr error) int {
	if cleanupErr != nil {
		fmt.Fprintf(d.stderr, "pgwiden-demo: clean up: %v\n", cleanupErr)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(d.stderr, "pgwiden-demo: interrupted")
		return 130
	case err != nil:
		fmt.Fprintf(d.stderr, "pgwiden-demo: %v\n", err)
		return 1
	case cleanupErr != nil:
		return 1
	case len(d.surprises) > 0:
		fmt.Fprintf(d.stderr, "pgwiden-demo: these pgwiden commands did not end as the demo expects:\n  - %s\n",
			strings.Join(d.surprises, "\n  - "))
		return 1
	}
	d.say("done")
	return 0
}

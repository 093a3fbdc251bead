package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/pgserver"
)

// sampleDB is the database the samples run on.
const sampleDB = "shop"

// runner runs the scenes on a throwaway server.
type runner struct {
	pgwiden string // the binary under documentation
	sqlDir  string // the demo's SQL files
	log     io.Writer

	dsn  string
	conn *pgx.Conn
}

// samples starts a server, runs every scene and returns each sample's
// rendered block by name. The server is stopped whatever happens.
func (r *runner) samples(ctx context.Context) (outputs map[string]string, err error) {
	srv, err := pgserver.Start(ctx, pgserver.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w\n\n%s", err, pgserver.HowToProvide)
	}
	defer func() { err = errors.Join(err, srv.Stop()) }()
	if srv.Kind() == pgserver.KindDSN {
		return nil, errors.New("samples come from a throwaway server: unset PGWIDEN_TEST_DSN so that local binaries (or Docker) provide one")
	}
	fmt.Fprintf(r.log, "pgwiden-docs: server: %s\n", srv.Describe())
	if err := r.setUp(ctx, srv.AdminDSN()); err != nil {
		return nil, err
	}
	defer r.conn.Close(context.WithoutCancel(ctx))
	outputs = map[string]string{}
	for _, s := range scenes() {
		if err := r.play(ctx, s, outputs); err != nil {
			return nil, err
		}
	}
	return outputs, nil
}

// setUp creates the sample database with the demo's schema, rows and
// incident.
func (r *runner) setUp(ctx context.Context, adminDSN string) error {
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", pgserver.DescribeDSN(adminDSN), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{sampleDB}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", sampleDB, err)
	}
	if r.dsn, err = pgserver.WithDatabase(adminDSN, sampleDB); err != nil {
		return err
	}
	if r.conn, err = pgx.Connect(ctx, r.dsn); err != nil {
		return fmt.Errorf("connect to database %s: %w", sampleDB, err)
	}
	for _, f := range []string{"schema.sql", "seed.sql", "incident.sql"} {
		sql, err := os.ReadFile(filepath.Join(r.sqlDir, f))
		if err != nil {
			return fmt.Errorf("read the demo's %s: %w", f, err)
		}
		if err := r.exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// exec runs SQL (several statements allowed) in the sample database.
func (r *runner) exec(ctx context.Context, sql string) error {
	if _, err := r.conn.PgConn().Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("run SQL in database %s: %w", sampleDB, err)
	}
	return nil
}

// play runs one scene and keeps its block when it has one.
func (r *runner) play(ctx context.Context, s scene, outputs map[string]string) error {
	if s.SQL != "" {
		return r.exec(ctx, s.SQL)
	}
	fmt.Fprintf(r.log, "pgwiden-docs: %s\n", strings.TrimPrefix(commandLine(s), "$ "))
	out, code, err := r.runPgwiden(ctx, s)
	if err != nil {
		return err
	}
	if code != s.Exit {
		return fmt.Errorf("%s: exit status %d, want %d; its output:\n%s", commandLine(s), code, s.Exit, out)
	}
	if s.Sample != "" {
		outputs[s.Sample] = render(s, out)
	}
	return nil
}

// ansi matches the colour codes of zerolog's console writer.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// runPgwiden runs the binary as an operator would, stdin not a terminal,
// and returns what it printed (stdout and stderr interleaved, or stdout
// alone for a Stdout scene) and its exit status.
func (r *runner) runPgwiden(ctx context.Context, s scene) (string, int, error) {
	args := append([]string{"--dsn", r.dsn, "--log-format", "console"}, s.Args...)
	if len(s.Args) > 0 && s.Args[0] == "--help" {
		args = s.Args
	}
	c := exec.CommandContext(ctx, r.pgwiden, args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if s.Stdout {
		c.Stderr = &errOut
	}
	err := c.Run()
	var exitErr *exec.ExitError
	if err != nil && (!errors.As(err, &exitErr) || !exitErr.Exited()) {
		return "", 0, fmt.Errorf("run %s: %w", r.pgwiden, err)
	}
	code := 0
	if exitErr != nil {
		code = exitErr.ExitCode()
	}
	if code != s.Exit && s.Stdout {
		out.Write(errOut.Bytes())
	}
	return ansi.ReplaceAllString(out.String(), ""), code, nil
}

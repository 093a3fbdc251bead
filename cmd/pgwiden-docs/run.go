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
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/dsn"
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

	workDir string      // where every command runs: its postpone files
	bg      *background // the command running in the background, if any
}

// background is a command started by a Background scene. Its output goes
// to a file, which the run reads while the command writes it.
type background struct {
	scene scene
	cmd   *exec.Cmd
	out   string // the output file
	done  chan error
}

// output is what the background command has printed so far.
func (bg *background) output() string {
	b, err := os.ReadFile(bg.out)
	if err != nil {
		return fmt.Sprintf("(its output file: %v)", err)
	}
	return ansi.ReplaceAllString(string(b), "")
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
	if r.workDir, err = os.MkdirTemp("", "pgwiden-docs-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(r.workDir)
	defer r.stopBackground()
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
		return fmt.Errorf("connect to %s: %w", dsn.Describe(adminDSN), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{sampleDB}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", sampleDB, err)
	}
	if r.dsn, err = dsn.WithDatabase(adminDSN, sampleDB); err != nil {
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
	switch {
	case s.SQL != "":
		return r.exec(ctx, s.SQL)
	case s.Touch != "":
		return os.WriteFile(filepath.Join(r.workDir, s.Touch), nil, 0o600)
	case s.Remove != "":
		return os.Remove(filepath.Join(r.workDir, s.Remove))
	case s.Background:
		return r.startBackground(ctx, s)
	case s.Join:
		return r.join(ctx, outputs)
	case s.Interrupt:
		if r.bg == nil {
			return errors.New("scenes.go: an Interrupt scene with no Background scene before it")
		}
		return r.bg.cmd.Process.Signal(os.Interrupt)
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

// command is the scene's pgwiden command, run in the working directory
// with the --dsn and --log-format the docs leave out.
func (r *runner) command(ctx context.Context, s scene) *exec.Cmd {
	args := append([]string{"--dsn", r.dsn, "--log-format", "console"}, s.Args...)
	if len(s.Args) > 0 && s.Args[0] == "--help" {
		args = s.Args
	}
	c := exec.CommandContext(ctx, r.pgwiden, args...)
	c.Dir = r.workDir
	return c
}

// startBackground starts a Background scene's command and returns once its
// output contains the scene's Until, or fails after a minute.
func (r *runner) startBackground(ctx context.Context, s scene) error {
	fmt.Fprintf(r.log, "pgwiden-docs: %s &\n", strings.TrimPrefix(commandLine(s), "$ "))
	bg := &background{scene: s, cmd: r.command(ctx, s), out: filepath.Join(r.workDir, "background.out"), done: make(chan error, 1)}
	f, err := os.Create(bg.out)
	if err != nil {
		return err
	}
	defer f.Close() // the child has its own descriptor
	bg.cmd.Stdout, bg.cmd.Stderr = f, f
	if err := bg.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.pgwiden, err)
	}
	r.bg = bg
	go func() { bg.done <- bg.cmd.Wait() }()
	deadline := time.After(time.Minute)
	for !strings.Contains(bg.output(), s.Until) {
		select {
		case err := <-bg.done:
			bg.done <- err
			return fmt.Errorf("%s ended (exit status %d) before printing %q; its output:\n%s",
				commandLine(s), bg.cmd.ProcessState.ExitCode(), s.Until, bg.output())
		case <-deadline:
			return fmt.Errorf("%s: waited a minute for %q; its output so far:\n%s", commandLine(s), s.Until, bg.output())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// join waits for the background command, checks its exit status and keeps
// its output as its scene's sample.
func (r *runner) join(ctx context.Context, outputs map[string]string) error {
	bg := r.bg
	if bg == nil {
		return errors.New("scenes.go: a Join scene with no Background scene before it")
	}
	var err error
	select {
	case err = <-bg.done:
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("%s: still running after two minutes", commandLine(bg.scene))
	case <-ctx.Done():
		return ctx.Err()
	}
	r.bg = nil
	code := bg.cmd.ProcessState.ExitCode()
	if code != bg.scene.Exit {
		return fmt.Errorf("%s: exit status %d, want %d (%w); its output:\n%s", commandLine(bg.scene), code, bg.scene.Exit, err, bg.output())
	}
	outputs[bg.scene.Sample] = render(bg.scene, bg.output())
	return nil
}

// stopBackground kills a background command the run left behind (after a
// failure), so that the server can stop.
func (r *runner) stopBackground() {
	if r.bg != nil {
		_ = r.bg.cmd.Process.Kill()
		if err := <-r.bg.done; err != nil {
			fmt.Fprintf(r.log, "pgwiden-docs: stopped %s: %v\n", commandLine(r.bg.scene), err)
		}
	}
}

// ansi matches the colour codes of zerolog's console writer.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// runPgwiden runs the binary as an operator would, stdin not a terminal,
// and returns what it printed (stdout and stderr interleaved, or stdout
// alone for a Stdout scene) and its exit status.
func (r *runner) runPgwiden(ctx context.Context, s scene) (string, int, error) {
	c := r.command(ctx, s)
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

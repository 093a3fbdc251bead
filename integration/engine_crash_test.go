package integration

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

// errCrashed ends the phase the crash hook interrupted.
var errCrashed = errors.New("the server was crashed by the test")

// TestEngineServerCrashAsyncCommit crashes the server itself (an immediate
// shutdown: every process exits at once, nothing is flushed) in the middle
// of a backfill whose batches commit with synchronous_commit off (the
// default). The server keeps async commits in its WAL buffers for up to
// wal_writer_delay, here 10s, so the crash loses the last batches: the
// checkpoint recorded after recovery is behind the one read before the
// crash. Each batch's checkpoint commits in its transaction, so it is
// lost with it: after recovery every checkpoint describes its table
// exactly, a second run finishes from there, the verification passes and
// the keys are unchanged.
func TestEngineServerCrashAsyncCommit(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	srv := startOwnServer(ctx, t)
	db := srv.newDB(ctx, t, "crash")
	db.ExecFile(t, saasSchema)
	p := saasPlan(t, ctx, db)
	sums := keyChecksums(t, ctx, db, p)
	if !engineConfig().AsyncCommit {
		t.Fatal("migrator.DefaultConfig has AsyncCommit off: this test is about the default")
	}
	newEngine(t, db, engineConfig(), noHooks).run(t, ctx, "prepare")

	var before int64
	crash := migrator.Hooks{BeforeBatch: func(ctx context.Context, stepID string, batch int) error {
		if batch < 10 {
			return nil
		}
		// Committed (asynchronously) and visible to every session, but
		// not necessarily on disk.
		if err := db.Pool.QueryRow(ctx, `SELECT sum(rows_done) FROM pgwiden.tasks`).Scan(&before); err != nil {
			return err
		}
		srv.crash(t)
		return errCrashed
	}}
	e := newEngine(t, db, engineConfig(), crash)
	if err := e.phase(ctx, "backfill"); !errors.Is(err, errCrashed) {
		t.Fatalf("backfill: %v, want the test's crash", err)
	}
	db.Pool.Reset() // its connections died with the server
	srv = srv.restart(ctx, t)

	var after int64
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(sum(rows_done), 0) FROM pgwiden.tasks`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	t.Logf("rows_done: %d committed before the crash, %d after recovery", before, after)
	if after >= before {
		t.Errorf("the crash lost no batch (rows_done %d before, %d after): were the batches committed synchronously?", before, after)
	}
	e = newEngine(t, db, engineConfig(), noHooks)
	steps := stepsOf(e.job(t, ctx).Plan, planner.Backfill)
	for _, s := range steps {
		checkCheckpoint(t, ctx, db, p, s, false)
	}
	e.run(t, ctx, "backfill")
	for _, s := range steps {
		checkCheckpoint(t, ctx, db, p, s, true)
	}
	e.run(t, ctx, "cutover")
	assertWidened(t, ctx, db, p)
	assertUnchanged(t, "by a backfill resumed after a server crash", sums, keyChecksums(t, ctx, db, p))
}

// ownServer is a server of the test's own, made with initdb, that the
// test may crash; it runs as a standby does (throttle_standby_test.go).
type ownServer struct {
	*standby
	port int
}

// startOwnServer makes a cluster in a directory the server user owns and
// starts it on a free port. wal_writer_delay is at its maximum so that
// asynchronous commits stay in the WAL buffers long enough to be lost.
func startOwnServer(ctx context.Context, t *testing.T) *ownServer {
	t.Helper()
	if pgtest.BinDir() == "" {
		t.Fatal("this test crashes a server of its own, made with initdb of the server's version, which a PGWIDEN_TEST_DSN or container server does not provide: run it with local server binaries")
	}
	s := &ownServer{standby: &standby{dir: pgtest.UserTempDir(t), done: make(chan struct{})}}
	if out, err := runServerProgram(ctx, s.dir, pgtest.Tool("initdb"), "-D", s.data(), "-U", "postgres", "--auth=trust", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	var err error
	if s.port, err = freeTCPPort(); err != nil {
		t.Fatal(err)
	}
	s.launch(ctx, t)
	return s
}

func (s *ownServer) data() string { return filepath.Join(s.dir, "data") }

func (s *ownServer) launch(ctx context.Context, t *testing.T) {
	t.Helper()
	s.start(t, []string{"-D", s.data(), "-p", strconv.Itoa(s.port), "-k", s.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "wal_writer_delay=10s", "-c", "autovacuum=off"})
	t.Cleanup(s.stop)
	s.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", s.port)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var one int
		err := s.query(ctx, "SELECT 1", &one)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the test's own server does not accept connections after 60s: %v\n%s", err, s.log())
		}
	}
}

// newDB creates a database on the server, with a pool closed at cleanup.
func (s *ownServer) newDB(ctx context.Context, t *testing.T, name string) *pgtest.DB {
	t.Helper()
	db := &pgtest.DB{Name: name, DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", s.port, name)}
	if err := s.conn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	if db.Pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Pool.Close)
	return db
}

// crash is an immediate shutdown (what pg_ctl stop -m immediate sends):
// the server's processes exit without writing their WAL buffers, as in a
// power loss for whatever had not reached the kernel.
func (s *ownServer) crash(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not exit 30s after SIGQUIT:\n%s", s.log())
	}
}

// restart starts the crashed server again: it recovers from its WAL.
func (s *ownServer) restart(ctx context.Context, t *testing.T) *ownServer {
	t.Helper()
	n := &ownServer{standby: &standby{dir: s.dir, done: make(chan struct{})}, port: s.port}
	n.launch(ctx, t)
	return n
}

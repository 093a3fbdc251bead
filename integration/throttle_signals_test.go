package integration

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/throttle"
)

// sigSession opens one connection named app: a client of the database.
// The signals read through one named pgwiden, as pgwiden names its
// sessions, which the signals leave out.
func sigSession(t *testing.T, db *pgtest.DB, app string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgx.ConnectConfig(pgtest.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// sigExec runs sql on one of the test's sessions (or a pgwiden batch).
func sigExec(t *testing.T, ctx context.Context, c interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, sql string) {
	t.Helper()
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func sigRead(t *testing.T, ctx context.Context, s throttle.Signal) throttle.Reading {
	t.Helper()
	r, err := s.Read(ctx)
	if err != nil {
		t.Fatalf("%s: %v", s.Name(), err)
	}
	return r
}

// sigReadUntil reads s until ok accepts the reading: the server's statistics
// and lock queues change a moment after the statements that cause them.
func sigReadUntil(t *testing.T, ctx context.Context, s throttle.Signal, what string, ok func(throttle.Reading) bool) throttle.Reading {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := sigRead(t, ctx, s)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no reading %s in 30s; last %+v", s.Name(), what, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sigHeld(r throttle.Reading) bool  { return r.Hold }
func sigClear(r throttle.Reading) bool { return !r.Hold }

func TestThrottleSignalXminAge(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	pool := sigSession(t, db, "pgwiden")
	sig := throttle.XminAge(pool, 0)
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("no open transaction: %+v", r)
	}
	// pgwiden's own open transaction is not a reason to wait.
	own := sigSession(t, db, "pgwiden")
	sigExec(t, ctx, own, "BEGIN; SELECT txid_current()")
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("pgwiden's own transaction held it: %+v", r)
	}
	sigExec(t, ctx, own, "ROLLBACK")

	app := sigSession(t, db, "report")
	var pid int
	if err := app.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	sigExec(t, ctx, app, "BEGIN; SELECT txid_current()")
	r := sigRead(t, ctx, sig)
	want := regexp.MustCompile(fmt.Sprintf(`^transaction open \d+s \(pid %d\) > 0s$`, pid))
	if !r.Hold || !want.MatchString(r.Reason) || r.Value <= 0 {
		t.Fatalf("open transaction: %+v, want reason %s", r, want)
	}
	if r := sigRead(t, ctx, throttle.XminAge(pool, time.Hour)); r.Hold || r.Value <= 0 {
		t.Fatalf("under the 1h limit: %+v", r)
	}
	sigExec(t, ctx, app, "COMMIT")
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("after COMMIT: %+v", r)
	}
}

func TestThrottleSignalLockWaiters(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	db.Exec(t, "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)")
	pool := sigSession(t, db, "pgwiden")
	sig := throttle.LockWaiters(pool, []string{"public.t"})
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("no waiter: %+v", r)
	}
	// A table lock with a reader queued behind it.
	locker, reader := sigSession(t, db, "locker"), sigSession(t, db, "app")
	sigExec(t, ctx, locker, "BEGIN; LOCK TABLE t")
	done := make(chan error, 1)
	go func() { _, err := reader.Exec(ctx, "SELECT * FROM t"); done <- err }()
	r := sigReadUntil(t, ctx, sig, "holding", sigHeld)
	if r.Reason != "1 session waits for locks on public.t" {
		t.Fatalf("reason %q", r.Reason)
	}
	sigExec(t, ctx, locker, "COMMIT")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("after COMMIT: %+v", r)
	}
	// A writer waiting for a row a pgwiden batch has updated.
	batch := sigSession(t, db, "pgwiden")
	sigExec(t, ctx, batch, "BEGIN; UPDATE t SET v = v + 1 WHERE id = 1")
	go func() { _, err := reader.Exec(ctx, "UPDATE t SET v = 10 WHERE id = 1"); done <- err }()
	if r := sigReadUntil(t, ctx, sig, "holding for a row lock", sigHeld); r.Reason != "1 session waits for locks on public.t" {
		t.Fatalf("reason %q", r.Reason)
	}
	sigExec(t, ctx, batch, "COMMIT")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("after the batch's COMMIT: %+v", r)
	}
}

func TestThrottleSignalActiveBackends(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	pool := sigSession(t, db, "pgwiden")
	sleeper := sigSession(t, db, "app")
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := sleeper.Exec(sctx, "SELECT pg_sleep(60)"); done <- err }()
	sig := throttle.ActiveBackends(pool, 0)
	r := sigReadUntil(t, ctx, sig, "counting the pg_sleep session", sigHeld)
	if r.Value < 1 || !regexp.MustCompile(`^\d+ active sessions > 0$`).MatchString(r.Reason) {
		t.Fatalf("with a pg_sleep running: %+v", r)
	}
	if r := sigRead(t, ctx, throttle.ActiveBackends(pool, 1000)); r.Hold || r.Value < 1 {
		t.Fatalf("under the limit: %+v", r)
	}
	cancel() // pgx sends a cancel request; the sleep ends
	if err := <-done; err == nil {
		t.Fatal("pg_sleep was not cancelled")
	}
}

func TestThrottleSignalWALRate(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	pool := sigSession(t, db, "pgwiden")
	sig := throttle.WALRate(pool, 1, throttle.RealClock)
	if r := sigRead(t, ctx, sig); r.Hold || r.Value != 0 {
		t.Fatalf("first read: %+v", r)
	}
	db.Exec(t, "CREATE TABLE w AS SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 20000) g")
	r := sigRead(t, ctx, sig)
	if !r.Hold || r.Value <= 0 || !strings.HasPrefix(r.Reason, "WAL rate ") || !strings.HasSuffix(r.Reason, " > 1 bytes/s") {
		t.Fatalf("after writing WAL: %+v", r)
	}
}

func TestThrottleSignalDeadTuples(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	// No autovacuum: it would remove the dead rows the test counts.
	db.Exec(t, "CREATE TABLE d (id int) WITH (autovacuum_enabled = false)")
	pool := sigSession(t, db, "pgwiden")
	sig := throttle.DeadTuples(pool, []string{"public.d"}, 0.5)
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("empty table: %+v", r)
	}
	// Statistics are flushed by the session that made them, when it is
	// idle; pg_stat_force_next_flush (PostgreSQL 15) makes that the next
	// idle moment. Before 15 a session reports at most every 500ms
	// (PGSTAT_STAT_INTERVAL), and only when it goes idle: the DELETE,
	// right after the INSERT, is reported once a statement that ends
	// more than 500ms later goes idle. sigReadUntil then polls while the
	// collector catches up.
	w := sigSession(t, db, "app")
	flush := "SELECT pg_sleep(0.6)"
	if pgtest.Version() >= 150000 {
		flush = "SELECT pg_stat_force_next_flush()"
	}
	for _, sql := range []string{"INSERT INTO d SELECT generate_series(1, 1000)", "DELETE FROM d WHERE id <= 600", flush} {
		sigExec(t, ctx, w, sql)
	}
	r := sigReadUntil(t, ctx, sig, "holding", sigHeld)
	if r.Reason != "dead tuples 60.0% > 50.0% on public.d" || r.Value != 0.6 {
		t.Fatalf("600 of 1000 rows deleted: %+v", r)
	}
	db.Exec(t, "VACUUM d")
	sigReadUntil(t, ctx, sig, "clear after VACUUM", sigClear)
}

func TestThrottleSignalCustomQuery(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	db.Exec(t, "CREATE TABLE ops (paused bool)")
	pool := sigSession(t, db, "pgwiden")
	sig := throttle.CustomQuery(pool, "SELECT bool_or(paused) FROM ops")
	if r := sigRead(t, ctx, sig); r.Hold { // NULL over no rows: false
		t.Fatalf("no rows: %+v", r)
	}
	db.Exec(t, "INSERT INTO ops VALUES (true)")
	if r := sigRead(t, ctx, sig); !r.Hold || r.Reason != "throttle query returned true" {
		t.Fatalf("paused: %+v", r)
	}
	db.Exec(t, "UPDATE ops SET paused = false")
	if r := sigRead(t, ctx, sig); r.Hold {
		t.Fatalf("resumed: %+v", r)
	}
	if _, err := throttle.CustomQuery(pool, "SELEC true").Read(ctx); err == nil {
		t.Fatal("a broken throttle query read without error")
	}
}

func TestThrottleSignalReplicationLag(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	pool := sigSession(t, db, "pgwiden")
	var standbys int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_replication").Scan(&standbys); err != nil {
		t.Fatal(err)
	}
	r := sigRead(t, ctx, throttle.ReplicationLag(pool, time.Second))
	if r.Hold || (standbys == 0 && r.Value != 0) {
		t.Fatalf("primary with %d standbys: %+v", standbys, r)
	}
}

// TestThrottleSignalStandbyLagOnPrimary: a standby DSN that leads to the
// primary is a mistake the operator is told about, not a lag of 0.
func TestThrottleSignalStandbyLagOnPrimary(t *testing.T) {
	db, ctx := pgtest.NewDB(t), pgtest.Context(t)
	pool := sigSession(t, db, "pgwiden")
	_, err := throttle.StandbyLag("replica-1", pool, time.Second).Read(ctx)
	if !errors.Is(err, throttle.ErrNotStandby) || !strings.Contains(err.Error(), "replica-1") {
		t.Fatalf("StandbyLag on the primary: %v", err)
	}
}

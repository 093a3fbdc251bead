package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// The throttle tests run the pgwiden binary, as an operator would: a
// backfill in the background, and pause, resume, throttle and status from
// other processes, through pgwiden.migrations.

// throttleTarget are the target flags of throttleDB's table.
var throttleTarget = []string{"--table", "items", "--column", "id"}

// throttleDB makes a database with one table of n rows, items.id serial,
// and prepares its migration with the binary.
func throttleDB(ctx context.Context, t *testing.T, n int) *pgtest.DB {
	t.Helper()
	db := pgtest.NewDB(t)
	db.Exec(t, fmt.Sprintf(`CREATE TABLE items (id serial PRIMARY KEY, v int NOT NULL);
		INSERT INTO items (v) SELECT g FROM generate_series(1, %d) g;
		ANALYZE items;`, n))
	throttleCLI(ctx, t, db, 0, "prepare")
	return db
}

// throttleCLI runs `pgwiden <cmd> <target> <flags>` and checks its exit
// code; it returns stdout.
func throttleCLI(ctx context.Context, t *testing.T, db *pgtest.DB, want int, cmd string, flags ...string) string {
	t.Helper()
	args := append(append([]string{"--dsn", db.DSN, "--log-level", "warn", cmd}, throttleTarget...), flags...)
	stdout, stderr, code := runPgwiden(ctx, t, args...)
	if code != want {
		t.Fatalf("pgwiden %s %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmd, flags, code, want, stdout, stderr)
	}
	return stdout
}

// bgRun is a pgwiden process running in the background.
type bgRun struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	stdout bytes.Buffer
	done   chan struct{}
	err    error
}

// startPgwiden starts `pgwiden --dsn ... --log-format json <args>`; the
// test's cleanup kills it if it still runs.
func startPgwiden(ctx context.Context, t *testing.T, db *pgtest.DB, args ...string) *bgRun {
	t.Helper()
	r := &bgRun{stderr: &syncBuffer{}, done: make(chan struct{})}
	all := append([]string{"--dsn", db.DSN, "--log-format", "json", "--log-level", "info"}, args...)
	r.cmd = exec.CommandContext(ctx, pgtest.Binary(t), all...)
	r.cmd.Env = append(os.Environ(), "PGWIDEN_DSN=", "DATABASE_URL=", "PGCONNECT_TIMEOUT=5")
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start pgwiden %v: %v", args, err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits up to d for the process to exit 0, failing with its output
// otherwise.
func (r *bgRun) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		t.Fatalf("pgwiden %v still runs after %v\nstderr:\n%s", r.cmd.Args[1:], d, r.stderr)
	}
	if r.err != nil {
		t.Fatalf("pgwiden %v: %v\nstdout:\n%s\nstderr:\n%s", r.cmd.Args[1:], r.err, r.stdout.String(), r.stderr)
	}
}

// running reports whether the process has not exited yet.
func (r *bgRun) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// logLines returns the JSON log lines with the given msg.
func (r *bgRun) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(r.stderr.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer the process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// throttleStatus is the part of `status --json` these tests read.
type throttleStatus struct {
	ID        int64  `json:"id"`
	Phase     string `json:"phase"`
	Paused    bool   `json:"paused"`
	MaxRate   *int   `json:"max_rate"`
	Throttled string `json:"throttled"`
	Holder    *struct {
		PID int `json:"pid"`
	} `json:"holder"`
}

// statusOf returns the newest migration as `status --json` shows it.
func statusOf(ctx context.Context, t *testing.T, db *pgtest.DB) throttleStatus {
	t.Helper()
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "status", "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Migrations []throttleStatus `json:"migrations"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Migrations) == 0 {
		t.Fatalf("status --json: %v\n%s", err, stdout)
	}
	return doc.Migrations[0]
}

// statusText returns `pgwiden status`.
func statusText(ctx context.Context, t *testing.T, db *pgtest.DB) string {
	t.Helper()
	stdout, stderr, code := runPgwiden(ctx, t, "--dsn", db.DSN, "status")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	return stdout
}

// rowsDone is the rows the backfill has copied so far, as committed with
// its checkpoints (those of its slices included).
func rowsDone(ctx context.Context, t *testing.T, db *pgtest.DB) int64 {
	t.Helper()
	var n int64
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(rows_done), 0) FROM pgwiden.tasks WHERE step_id LIKE 'backfill/%')
		+ (SELECT coalesce(sum(rows_done), 0) FROM pgwiden.task_slices WHERE step_id LIKE 'backfill/%')`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// throttledState reads what the running backfill recorded as its throttle
// state (the column status shows), straight from pgwiden.migrations.
func throttledState(ctx context.Context, t *testing.T, db *pgtest.DB) string {
	t.Helper()
	var s string
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(throttled, '') FROM pgwiden.migrations ORDER BY id DESC LIMIT 1`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls cond every 20ms for up to limit and returns how long it
// took to hold; it fails the test when it never does.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("after %v: still not %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// stalled checks that the backfill copies nothing for d.
func stalled(ctx context.Context, t *testing.T, db *pgtest.DB, d time.Duration) int64 {
	t.Helper()
	before := rowsDone(ctx, t, db)
	time.Sleep(d)
	if after := rowsDone(ctx, t, db); after != before {
		t.Fatalf("the backfill copied %d rows while held (%d -> %d)", after-before, before, after)
	}
	return before
}

// backfillDone checks that every row was copied and the phase recorded.
func backfillDone(ctx context.Context, t *testing.T, db *pgtest.DB, rows int) {
	t.Helper()
	var differ int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM items WHERE id_pgwiden_new IS DISTINCT FROM id`).Scan(&differ); err != nil {
		t.Fatal(err)
	}
	if differ != 0 {
		t.Errorf("%d of %d rows not copied", differ, rows)
	}
	if st := statusOf(ctx, t, db); st.Phase != "backfilled" || st.Throttled != "" {
		t.Errorf("after the backfill: phase %s, throttled %q; want backfilled and not throttled", st.Phase, st.Throttled)
	}
}

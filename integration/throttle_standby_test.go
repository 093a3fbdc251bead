package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestThrottleStandbyReplayPaused: a real streaming standby of the test
// server, made with pg_basebackup -R and started as a second server. The
// backfill watches it through --replica-dsn. WAL replay is paused on the
// standby: the backfill stops within a signal interval, says which standby
// holds it, copies nothing more, and finishes once replay resumes. The
// time from the pause to the last batch committed is logged, against the
// issue's target of 2s.
func TestThrottleStandbyReplayPaused(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 40000
	db := throttleDB(ctx, t, rows)
	sb := startStandby(ctx, t, db)

	bf := startPgwiden(ctx, t, db, append(append([]string{"backfill"}, throttleTarget...),
		"--batch-size", "200", "--max-batch", "500", "--max-rate", "5000", "--signal-interval", "1s",
		"--replica-dsn", "standby="+sb.dsn, "--max-replica-lag", "1s")...)
	eventually(t, 20*time.Second, "copying", func() bool { return rowsDone(ctx, t, db) > 0 })
	time.Sleep(1500 * time.Millisecond) // a few signal reads of a standby that keeps up
	if st := throttledState(ctx, t, db); strings.HasPrefix(st, "paused") {
		t.Fatalf("held before replay was paused: %s", st)
	}

	sb.exec(ctx, t, "SELECT pg_wal_replay_pause()")
	paused := time.Now()
	lastRows, lastChange := rowsDone(ctx, t, db), paused
	heldAfter := eventually(t, 15*time.Second, "held by the paused standby", func() bool {
		if n := rowsDone(ctx, t, db); n != lastRows {
			lastRows, lastChange = n, time.Now()
		}
		return strings.Contains(throttledState(ctx, t, db), "WAL replay paused on standby")
	})
	stalled(ctx, t, db, 1500*time.Millisecond)
	stop := lastChange.Sub(paused)
	t.Logf("replay paused: last batch committed %v later, hold recorded %v later (--signal-interval 1s; target < 2s); %d of %d rows copied",
		stop.Round(time.Millisecond), heldAfter.Round(time.Millisecond), lastRows, rows)
	if stop >= 2*time.Second {
		t.Errorf("the backfill went on for %v after replay was paused, want < 2s", stop)
	}
	if lastRows >= rows {
		t.Fatalf("the backfill had finished before the hold: make the table bigger")
	}
	if text := statusText(ctx, t, db); !strings.Contains(text, "throttle: paused: WAL replay paused on standby") {
		t.Errorf("status does not name the standby:\n%s", text)
	}

	sb.exec(ctx, t, "SELECT pg_wal_replay_resume()")
	bf.wait(t, 60*time.Second)
	backfillDone(ctx, t, db, rows)
}

// standby is a streaming standby of the test server, for one test.
type standby struct {
	dsn  string // to the test's database on the standby
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startStandby clones the test server (baseBackup) into a
// directory the server user owns, starts it on a free port with
// hot_standby=on, and waits until it accepts connections and streams.
// The test's cleanup stops it and removes its directory.
//
// It needs the server's own binaries: with PGWIDEN_TEST_DSN or a
// container there are none to start a standby with (and the server may
// not let this host replicate), so the test fails and says so, rather
// than skipping: CI runs on local binaries, where it must run.
func startStandby(ctx context.Context, t *testing.T, db *pgtest.DB) *standby {
	t.Helper()
	if pgtest.BinDir() == "" {
		t.Fatalf("this test starts a streaming standby of the test server with pg_basebackup and postgres of the server's version, " +
			"which a PGWIDEN_TEST_DSN or container server does not provide: run it with local server binaries " +
			"(unset PGWIDEN_TEST_DSN; PGWIDEN_PG_BIN or pg_config --bindir)")
	}
	sb := &standby{dir: pgtest.UserTempDir(t), done: make(chan struct{})}
	data := filepath.Join(sb.dir, "data")
	baseBackup(ctx, t, sb.dir, data)
	port, err := freeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", sb.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "hot_standby=on", "-c", "fsync=off"}
	// A hot standby refuses to start with fewer of these than its primary.
	for _, name := range []string{"max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions", "max_locks_per_transaction"} {
		var v string
		if err := db.Pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-c", name+"="+v)
	}
	sb.start(t, args)
	t.Cleanup(sb.stop)
	dsn, err := url.Parse(fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", port, url.PathEscape(db.Name)))
	if err != nil {
		t.Fatal(err)
	}
	sb.dsn = dsn.String()
	sb.waitStreaming(ctx, t)
	return sb
}

// start runs postgres from a goroutine locked to its OS thread until the
// server exits: the parent-death signal SysProcAttr sets fires when the
// starting thread ends (see pgserver.SysProcAttr).
func (sb *standby) start(t *testing.T, args []string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(sb.dir, "standby.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	attr, err := pgtest.SysProcAttr()
	if err != nil {
		t.Fatal(err)
	}
	sb.cmd = exec.Command(filepath.Join(pgtest.BinDir(), "postgres"), args...)
	sb.cmd.Dir, sb.cmd.Env, sb.cmd.SysProcAttr = sb.dir, serverProgramEnv(), attr
	sb.cmd.Stdout, sb.cmd.Stderr = logf, logf
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the server
		if err := sb.cmd.Start(); err != nil {
			started <- err
			close(sb.done)
			return
		}
		started <- nil
		_ = sb.cmd.Wait()
		close(sb.done)
	}()
	if err := <-started; err != nil {
		t.Fatalf("start the standby: %v", err)
	}
}

// waitStreaming waits until the standby accepts connections to the
// test's database and its WAL receiver streams from the primary.
func (sb *standby) waitStreaming(ctx context.Context, t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-sb.done:
			t.Fatalf("the standby exited:\n%s", sb.log())
		default:
		}
		var status string
		last = sb.query(ctx, "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')", &status)
		if last == nil && status == "streaming" {
			return
		}
		if last == nil {
			last = errors.New("WAL receiver status " + status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the standby is not streaming after 60s: %v\n%s", last, sb.log())
}

// exec runs a statement on the standby.
func (sb *standby) exec(ctx context.Context, t *testing.T, sql string) {
	t.Helper()
	err := sb.conn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, sql)
		return err
	})
	if err != nil {
		t.Fatalf("on the standby: %s: %v", sql, err)
	}
}

// query reads one value on the standby.
func (sb *standby) query(ctx context.Context, sql string, dest any) error {
	return sb.conn(ctx, func(c *pgx.Conn) error { return c.QueryRow(ctx, sql).Scan(dest) })
}

func (sb *standby) conn(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, sb.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx)) // a short session
	return f(conn)
}

// stop asks for a fast shutdown and kills the standby if it lingers.
func (sb *standby) stop() {
	if sb.cmd == nil || sb.cmd.Process == nil {
		return
	}
	_ = sb.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-sb.done:
	case <-time.After(10 * time.Second):
		_ = sb.cmd.Process.Kill()
		<-sb.done
	}
}

func (sb *standby) log() string {
	b, _ := os.ReadFile(filepath.Join(sb.dir, "standby.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// runServerProgram runs a server-side program (pg_basebackup writing a
// data directory) as the server user, from a goroutine locked to its
// thread for the same reason as standby.start.
func runServerProgram(ctx context.Context, dir, path string, args ...string) ([]byte, error) {
	attr, err := pgtest.SysProcAttr()
	if err != nil {
		return nil, err
	}
	type result struct {
		out []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread() // the program has exited
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.Dir, cmd.Env, cmd.SysProcAttr = dir, serverProgramEnv(), attr
		out, err := cmd.CombinedOutput()
		res <- result{out, err}
	}()
	r := <-res
	return r.out, r.err
}

// serverProgramEnv is the environment without PG* variables, which would point
// the server programs at another cluster's settings.
func serverProgramEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// freeTCPPort asks the kernel for a loopback port nobody listens on.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

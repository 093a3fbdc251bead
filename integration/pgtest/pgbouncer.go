package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/internal/pgserver"
)

// pgbouncerPaths are where the Debian package puts the binary, after PATH.
var pgbouncerPaths = []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"}

// pgbouncerBinary finds pgbouncer, or says how to get it.
func pgbouncerBinary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range pgbouncerPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("pgbouncer not found in PATH or %s: install the Debian package pgbouncer (make test does, as root: scripts/ensure-pgbouncer.sh)",
		strings.Join(pgbouncerPaths, ", "))
}

// PgBouncer starts a PgBouncer in pool mode mode ("session" or
// "transaction") on a free loopback port in front of db's server, stopped
// at the test's cleanup, and returns a DSN to db through it. The test
// fails, never skips, when pgbouncer is not installed.
func PgBouncer(t testing.TB, db *DB, mode string) string {
	t.Helper()
	bin, err := pgbouncerBinary()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgconn.ParseConfig(db.DSN)
	if err != nil {
		t.Fatalf("parse DSN of %s: %v", db.Name, err)
	}
	dir := UserTempDir(t)
	var lastErr error
	for range 3 { // the free port may be taken before pgbouncer binds it
		port, err := pgserver.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if lastErr = startPgBouncer(t, bin, dir, cfg, mode, port); lastErr == nil {
			dsn := fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", cfg.User, port, db.Name)
			return dsn
		}
	}
	t.Fatalf("start pgbouncer: %v", lastErr)
	return ""
}

// startPgBouncer writes the configuration and starts pgbouncer as the
// server's user (it refuses to run as root), then waits until it answers.
func startPgBouncer(t testing.TB, bin, dir string, cfg *pgconn.Config, mode string, port int) error {
	ini := filepath.Join(dir, fmt.Sprintf("pgbouncer-%d.ini", port))
	users := filepath.Join(dir, "userlist.txt")
	logf := filepath.Join(dir, fmt.Sprintf("pgbouncer-%d.log", port))
	conf := fmt.Sprintf(`[databases]
* = host=%s port=%d
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = %s
max_client_conn = 200
default_pool_size = 10
logfile = %s
`, cfg.Host, cfg.Port, port, users, mode, logf)
	if err := os.WriteFile(users, fmt.Appendf(nil, "%q \"\"\n", cfg.User), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(ini, []byte(conf), 0o644); err != nil {
		return err
	}
	attr, err := SysProcAttr()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, ini)
	cmd.SysProcAttr = attr
	started, exited := make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the parent-death signal follows this thread
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return err
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return awaitPgBouncer(port, cfg.User, exited, logf)
}

// awaitPgBouncer waits until a query goes through pgbouncer on port.
func awaitPgBouncer(port int, user string, exited <-chan struct{}, logf string) error {
	dsn := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", user, port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			log, _ := os.ReadFile(logf)
			return fmt.Errorf("pgbouncer exited: %s", strings.TrimSpace(string(log)))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Close(ctx)
			cancel()
			return err
		}
		cancel()
	}
	log, _ := os.ReadFile(logf)
	return fmt.Errorf("pgbouncer on port %d does not answer: %s", port, strings.TrimSpace(string(log)))
}

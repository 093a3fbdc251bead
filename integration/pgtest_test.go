package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestPgTestServerVersion checks that the server is one pgwiden supports.
func TestPgTestServerVersion(t *testing.T) {
	if v := pgtest.Version(); v < 120000 {
		t.Fatalf("server_version_num = %d, want >= 120000", v)
	}
}

// TestPgTestDistinctDatabases checks that two NewDB calls give two empty
// databases that do not see each other's tables.
func TestPgTestDistinctDatabases(t *testing.T) {
	ctx := pgtest.Context(t)
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)
	if a.Name == b.Name {
		t.Fatalf("both databases are named %s", a.Name)
	}
	for _, db := range []*pgtest.DB{a, b} {
		var current string
		var tables int
		err := db.Pool.QueryRow(ctx, `SELECT current_database(),
			(SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))`).
			Scan(&current, &tables)
		if err != nil {
			t.Fatalf("query %s: %v", db.Name, err)
		}
		if current != db.Name || tables != 0 {
			t.Errorf("pool of %s: current_database=%s with %d user tables, want itself and empty", db.Name, current, tables)
		}
	}
	a.Exec(t, "CREATE TABLE only_in_a (id int PRIMARY KEY); INSERT INTO only_in_a VALUES (1)")
	var found bool
	if err := b.Pool.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&found); err != nil {
		t.Fatalf("query %s: %v", b.Name, err)
	}
	if found {
		t.Errorf("table made in %s is visible in %s", a.Name, b.Name)
	}
}

// TestPgTestDropAtCleanup checks that a test's database is gone once the
// test's cleanups have run, even with a session still open on it.
func TestPgTestDropAtCleanup(t *testing.T) {
	ctx := pgtest.Context(t)
	var name string
	t.Run("uses", func(t *testing.T) {
		db := pgtest.NewDB(t)
		name = db.Name
		// A session the test forgets to close must not block the drop.
		conn, err := pgx.Connect(pgtest.Context(t), db.DSN)
		if err != nil {
			t.Fatalf("connect to %s: %v", name, err)
		}
		_ = conn // left open on purpose
	})
	admin, err := pgx.Connect(ctx, pgtest.AdminDSN())
	if err != nil {
		t.Fatalf("connect as admin: %v", err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("look up %s: %v", name, err)
	}
	if name == "" || exists {
		t.Errorf("database %q still exists after its test's cleanup", name)
	}
}

// fatalRecorder is a testing.TB whose Fatal ends only the goroutine it
// runs on, so a test can watch Exec fail without failing itself.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.msg = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *fatalRecorder) Fatal(args ...any) { r.Fatalf("%s", strings.TrimSpace(fmt.Sprintln(args...))) }

// runFatal runs f with a fatalRecorder and returns the failure message, or
// "" when f did not fail.
func runFatal(t *testing.T, f func(tb testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg
}

// TestPgTestExecReportsErrors checks that Exec runs several statements and
// that a failing statement fails the test with the server's error.
func TestPgTestExecReportsErrors(t *testing.T) {
	db := pgtest.NewDB(t)
	db.Exec(t, "CREATE TABLE a (id int); CREATE TABLE b (id int)")

	msg := runFatal(t, func(tb testing.TB) {
		db.Exec(tb, "INSERT INTO a VALUES (1);\nSELECT nosuchcolumn FROM b")
	})
	t.Logf("Exec failed the test with:\n%s", msg)
	for _, want := range []string{db.Name, "nosuchcolumn", "42703", "LINE 2:", "^"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Exec failure message lacks %q:\n%s", want, msg)
		}
	}

	path := filepath.Join(t.TempDir(), "fixture.sql")
	if err := os.WriteFile(path, []byte("CREATE TABLE c (id int);\nCREATE TABLE c (id int);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	msg = runFatal(t, func(tb testing.TB) { db.ExecFile(tb, path) })
	if !strings.Contains(msg, path) || !strings.Contains(msg, "42P07") {
		t.Errorf("ExecFile failure message lacks the path or SQLSTATE 42P07:\n%s", msg)
	}
}

// TestPgTestDSNAs checks that a role made by a test can connect through
// DSNAs with no password.
func TestPgTestDSNAs(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	role := "r_" + strings.TrimPrefix(db.Name, "t_") // roles are cluster-wide
	db.Exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() { db.Exec(t, "DROP ROLE "+role) })
	conn, err := pgx.Connect(ctx, db.DSNAs(role))
	if err != nil {
		t.Fatalf("connect as %s: %v", role, err)
	}
	defer conn.Close(ctx)
	var user, dbname string
	if err := conn.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&user, &dbname); err != nil {
		t.Fatal(err)
	}
	if user != role || dbname != db.Name {
		t.Errorf("DSNAs(%s) connected as %s to %s, want %s to %s", role, user, dbname, role, db.Name)
	}
}

// TestPgTestTool checks that the client programs match the server's major
// version, so pg_dump of a newer server does not refuse to run; and that
// where the server's binaries have no pg_dump (the version matrix's
// packages ship only the server), Tool does not hand out the pg_dump of
// another version found in PATH.
func TestPgTestTool(t *testing.T) {
	if pgtest.BinDir() == "" {
		t.Skip("the server has no local binaries (PGWIDEN_TEST_DSN or container); Tool falls back to PATH")
	}
	major := pgtest.Version() / 10000
	tool := pgtest.Tool("pg_dump")
	if _, err := os.Stat(tool); err != nil {
		if filepath.Dir(tool) != pgtest.BinDir() {
			t.Errorf("Tool(pg_dump) = %s, want a path in %s", tool, pgtest.BinDir())
		}
		t.Logf("%s has no pg_dump; Tool returns %s, which fails when run", pgtest.BinDir(), tool)
		tool = pgtest.Tool("pg_ctl") // shipped with every server
	}
	out, err := exec.Command(tool, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", tool, err)
	}
	if !strings.Contains(string(out), " "+strconv.Itoa(major)+".") {
		t.Errorf("%s --version = %q, want major version %d", tool, strings.TrimSpace(string(out)), major)
	}
}

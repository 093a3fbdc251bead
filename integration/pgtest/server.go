package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/internal/pgserver"
)

// templateDB is the database every NewDB clones. It is made once per test
// binary so that, later, shared fixtures can be put in it once instead of
// once per test.
const templateDB = "pgwiden_tpl"

// server is the PostgreSQL server Main started, with the admin pool the
// tests' databases are made through.
type server struct {
	*pgserver.Server
	admin *pgxpool.Pool

	stopOnce sync.Once
}

// current is set once by Main before m.Run and only read afterwards, so
// tests read it without locking.
var current *server

// Main is called from TestMain: it resolves the server, runs m.Run, stops
// the server and exits with the tests' code. When no server can be had it
// prints the cause and how to provide one, and exits 1 so the run fails.
func Main(m *testing.M) {
	os.Exit(run(m, Requirement{}))
}

// Requirement is what a test package needs of its server beyond a plain
// PostgreSQL: settings to start a local cluster with, a check that the
// server meets it, and the fix to print when it does not.
type Requirement struct {
	Settings []string
	// Check returns an error when the running server lacks what is needed.
	Check func(ctx context.Context, admin *pgxpool.Pool) error
	// Fix tells the developer or the CI log how to provide it.
	Fix string
}

// MainWith is Main for a package whose tests need more than a plain
// server (the Citus tests: shared_preload_libraries = 'citus'). When the
// server cannot meet req the run fails, printing the cause and req.Fix.
func MainWith(m *testing.M, req Requirement) {
	os.Exit(run(m, req))
}

// run is Main without os.Exit, so that its defers stop the server also when
// m.Run panics in this goroutine.
func run(m *testing.M, req Requirement) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	ps, err := pgserver.Start(ctx, pgserver.Options{Settings: req.Settings})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: no PostgreSQL server for the tests: %v\n\n%s\n", err, howToProvide(req))
		return 1
	}
	srv := &server{Server: ps}
	defer srv.stop()
	defer removeBuildDir()
	stopOnSignal(srv)

	if err := srv.prepare(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: prepare %s server: %v\n", srv.Kind(), err)
		return 1
	}
	if err := srv.meets(req); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: the %s server (%s) cannot run these tests: %v\n\n%s\n", srv.Kind(), srv.Describe(), err, req.Fix)
		return 1
	}
	current = srv
	return m.Run()
}

// stopOnSignal stops the server before the test binary dies of SIGINT or
// SIGTERM, so an interrupted `go test` leaves no cluster and no temp dir.
func stopOnSignal(srv *server) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "pgtest: %v: stopping the %s PostgreSQL server\n", sig, srv.Kind())
		srv.stop()
		removeBuildDir()
		code := 1
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		os.Exit(code)
	}()
}

// prepare opens the admin pool and makes the template.
func (s *server) prepare() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(s.AdminDSN())
	if err != nil {
		return fmt.Errorf("parse admin DSN: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "pgwiden-test"
	s.admin, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", dsn.Describe(s.AdminDSN()), err)
	}
	return s.createTemplate(ctx)
}

// createTemplate makes pgwiden_tpl unless it exists. It never drops an
// existing one: with PGWIDEN_TEST_DSN several test binaries (go test runs
// packages in parallel) share the server, and a drop would break another
// binary's CREATE DATABASE in flight. It copies template0 so that sessions
// connected to template1 cannot make it fail.
func (s *server) createTemplate(ctx context.Context) error {
	tpl := pgx.Identifier{templateDB}.Sanitize()
	_, err := s.admin.Exec(ctx, "CREATE DATABASE "+tpl+" TEMPLATE template0 ENCODING 'UTF8'")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		// duplicate_database, or the unique_violation a concurrent CREATE
		// of the same name gets: another binary made it, and owns it.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create template database %s: %w", templateDB, err)
	}
	// datistemplate lets roles with only CREATEDB clone it too.
	if _, err := s.admin.Exec(ctx, "ALTER DATABASE "+tpl+" IS_TEMPLATE true"); err != nil {
		return fmt.Errorf("mark %s as template: %w", templateDB, err)
	}
	return nil
}

// stop closes the admin pool and stops whatever Main started. It is safe to
// call from the signal handler and from Main's defer at once. It prints,
// as it has no caller to return to: the tests are over by then.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		if s.admin != nil {
			s.admin.Close()
		}
		if err := s.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop the %s PostgreSQL server: %v\n", s.Kind(), err)
		}
	})
}

// mustServer returns the server Main resolved or fails the test: a test
// package that forgot its TestMain should hear so, not get a nil pointer.
func mustServer(t testing.TB) *server {
	t.Helper()
	if current == nil {
		t.Fatal("pgtest: no server: call pgtest.Main(m) from TestMain in this test package")
	}
	return current
}

// AdminDSN returns a superuser DSN to the "postgres" database (or to the
// database PGWIDEN_TEST_DSN names). Main must have run.
func AdminDSN() string { return mustCurrent().AdminDSN() }

// BinDir returns the directory of the server's binaries (pg_dump, pgbench,
// pg_basebackup of the same version). It is empty for PGWIDEN_TEST_DSN and
// container servers; callers then look programs up in PATH, as Tool does.
func BinDir() string { return mustCurrent().BinDir() }

// Version returns the server's server_version_num, e.g. 150004.
func Version() int { return mustCurrent().Version() }

// mustCurrent panics with the fix when Main has not run; the accessors have
// no testing.TB to fail.
func mustCurrent() *server {
	if current == nil {
		panic("pgtest: no server: call pgtest.Main(m) from TestMain in this test package")
	}
	return current
}

// howToProvide is the fix printed when no server could be started: with a
// requirement (e.g. a preloaded library missing), its fix comes first.
func howToProvide(req Requirement) string {
	if req.Fix == "" {
		return pgserver.HowToProvide
	}
	return req.Fix + "\n\n" + pgserver.HowToProvide
}

// meets runs the requirement's check on the prepared server.
func (s *server) meets(req Requirement) error {
	if req.Check == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return req.Check(ctx, s.admin)
}

package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/internal/dsn"
)

// defaultTimeout bounds every test's context; the style guide wants no SQL
// test that can hang until go test's own -timeout panics.
const defaultTimeout = 2 * time.Minute

// DB is a fresh database for one test, dropped at its cleanup.
type DB struct {
	// Name is the database name, "t_" and 16 hex digits.
	Name string
	// DSN is a superuser DSN for this database; pass it to the pgwiden
	// binary under test.
	DSN string
	// Pool is a superuser pool on this database with
	// application_name=pgwiden-test.
	Pool *pgxpool.Pool
}

// NewDB creates a database cloned from pgwiden_tpl and registers cleanups
// that close the pool and drop the database, with FORCE so that sessions a
// test left open (a killed pgwiden, a standby's walsender) cannot keep it.
func NewDB(t testing.TB) *DB {
	t.Helper()
	srv := mustServer(t)
	ctx := Context(t)
	db := &DB{Name: "t_" + randomHex(8)}
	ident := pgx.Identifier{db.Name}.Sanitize()
	tpl := pgx.Identifier{templateDB}.Sanitize()
	if _, err := srv.admin.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE "+tpl); err != nil {
		t.Fatalf("create database %s: %v", db.Name, err)
	}
	t.Cleanup(func() { srv.dropDB(t, db.Name) })

	var err error
	if db.DSN, err = dsn.WithDatabase(srv.AdminDSN(), db.Name); err != nil {
		t.Fatalf("DSN for database %s: %v", db.Name, err)
	}
	cfg, err := pgxpool.ParseConfig(db.DSN)
	if err != nil {
		t.Fatalf("parse DSN for database %s: %v", db.Name, err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "pgwiden-test"
	if db.Pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		t.Fatalf("pool for database %s: %v", db.Name, err)
	}
	// Registered after the drop, so it runs before it (cleanups are LIFO).
	t.Cleanup(db.Pool.Close)
	return db
}

// dropDB drops a test's database. It has its own context: the test's is
// cancelled by the time cleanups run.
func (s *server) dropDB(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sql := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize()
	if s.Version() >= 130000 {
		sql += " WITH (FORCE)"
	} else {
		// PostgreSQL 12 has no FORCE: end the sessions by hand.
		_, _ = s.admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	}
	if _, err := s.admin.Exec(ctx, sql); err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}

// Exec runs sql, which may hold several statements, through the simple
// query protocol, and fails the test with the failing statement's error.
func (db *DB) Exec(t testing.TB, sql string) {
	t.Helper()
	if err := db.exec(sql); err != nil {
		t.Fatalf("exec on database %s: %s", db.Name, err)
	}
}

// ExecFile runs the SQL file at path as Exec does.
func (db *DB) ExecFile(t testing.TB, path string) {
	t.Helper()
	sql, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read SQL file: %v", err)
	}
	if err := db.exec(string(sql)); err != nil {
		t.Fatalf("exec %s on database %s: %s", path, db.Name, err)
	}
}

// exec is Exec without the test, so the error can be shaped once.
func (db *DB) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	// pgconn's Exec uses the simple protocol, which alone allows several
	// statements in one string (the extended protocol takes one).
	_, err = conn.Conn().PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return describeExecErr(sql, err)
	}
	return nil
}

// DSNAs returns a DSN to this database for role, with no password: the
// local cluster and the container trust every connection, so privilege
// tests can connect as the roles they create.
func (db *DB) DSNAs(role string) string {
	dsn, err := dsn.WithUser(db.DSN, role)
	if err != nil {
		// db.DSN was parsed when NewDB made it, so this cannot happen.
		panic(fmt.Sprintf("pgtest: DSN for role %s: %v", role, err))
	}
	return dsn
}

// Context returns a context that times out after two minutes, or earlier
// when the test's own deadline (go test -timeout) comes first, and is
// cancelled at the test's cleanup.
func Context(t testing.TB) context.Context {
	deadline := time.Now().Add(defaultTimeout)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Before(deadline) {
			deadline = td
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// randomHex returns 2n random hex digits for unique database names.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // documented never to return an error since Go 1.24
	return hex.EncodeToString(b)
}

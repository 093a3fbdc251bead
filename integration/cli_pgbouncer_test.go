package integration

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestPgBouncerSession: through PgBouncer in session mode, each client
// connection keeps its server session, and the whole migration runs as
// directly.
func TestPgBouncerSession(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	dsn := pgtest.PgBouncer(t, db, "session")
	p := saasPlan(t, ctx, db)
	target := []string{"--table", "Tags", "--column", "Id"}
	for _, ph := range []string{"prepare", "backfill", "cutover", "cleanup"} {
		args := append([]string{"--dsn", dsn, ph}, target...)
		if ph == "cleanup" {
			args = append(args, "--yes")
		}
		if _, stderr, code := runPgwiden(ctx, t, args...); code != 0 {
			t.Fatalf("%s through PgBouncer in session mode: exit %d: %s", ph, code, stderr)
		}
	}
	assertWidened(t, ctx, db, p)
	assertNoPgwidenObjects(t, ctx, db)
}

// TestPgBouncerTransaction: in transaction mode the migration's session
// advisory lock and settings would not stay with pgwiden; prepare refuses
// with one line saying which DSN to use, and changes nothing.
func TestPgBouncerTransaction(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	dsn := pgtest.PgBouncer(t, db, "transaction")
	_, stderr, code := runPgwiden(ctx, t, "--dsn", dsn, "prepare", "--table", "Tags", "--column", "Id")
	want := "--dsn goes through a connection pooler in transaction mode"
	if code == 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "use a DSN straight to PostgreSQL, or to a session-mode pool") ||
		strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Fatalf("prepare through PgBouncer in transaction mode: exit %d, stderr %q; want one line with %q", code, stderr, want)
	}
	t.Logf("refused: %s", strings.TrimSpace(stderr))
	if left := readRows(t, ctx, db.Pool, pgwidenObjects); len(left) > 0 {
		t.Errorf("the refused prepare left: %v", left)
	}
	var schema bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'pgwiden')`).Scan(&schema); err != nil || schema {
		t.Errorf("the refused prepare created schema pgwiden (%v)", err)
	}
}

package integration

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestDisableUserTriggersNeedsSuperuser: a table owner (the role pgwiden
// is meant to run as on a managed service) can migrate, but
// --disable-user-triggers sets session_replication_role, which only a
// superuser may: the backfill refuses with one line naming the column and
// the way out, and copies nothing.
func TestDisableUserTriggersNeedsSuperuser(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, `DO $$ BEGIN CREATE ROLE pgwiden_owner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
		GRANT CREATE ON DATABASE "`+db.Name+`" TO pgwiden_owner;
		CREATE TABLE items (id int PRIMARY KEY, n int);
		INSERT INTO items SELECT g, g FROM generate_series(1, 100) g;
		ALTER TABLE items OWNER TO pgwiden_owner`)
	dsn := db.DSNAs("pgwiden_owner")
	target := []string{"--table", "items", "--column", "id"}
	if _, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", dsn, "prepare"}, target...)...); code != 0 {
		t.Fatalf("prepare as the table's owner: exit %d: %s", code, stderr)
	}
	_, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", dsn, "backfill", "--disable-user-triggers"}, target...)...)
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 ||
		!strings.Contains(stderr, "backfill public.items.id: --disable-user-triggers needs a superuser") {
		t.Fatalf("backfill --disable-user-triggers as owner: exit %d, stderr %q", code, stderr)
	}
	var copied int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM items WHERE id_pgwiden_new = id`).Scan(&copied); err != nil || copied != 0 {
		t.Errorf("rows copied by the refused backfill: %d (%v), want 0", copied, err)
	}
	if _, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", dsn, "backfill"}, target...)...); code != 0 {
		t.Errorf("backfill as the owner without the flag: exit %d: %s", code, stderr)
	}
}

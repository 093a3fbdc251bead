package integration

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestPreflightRefusesPrepareBeforeAnyChange: the role pgwiden connects
// as owns the table but not the sequence feeding its key, so the last
// prepare step (ALTER SEQUENCE ... AS bigint) would fail after the shadow
// column and the trigger were added. Prepare must refuse before its first
// change, with exit 4 and one line naming the sequence and the fix; once
// the fix is applied it runs.
func TestPreflightRefusesPrepareBeforeAnyChange(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, `DO $$ BEGIN CREATE ROLE pgwiden_owner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
		DO $$ BEGIN CREATE ROLE pgwiden_seq_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
		GRANT CREATE ON DATABASE "`+db.Name+`" TO pgwiden_owner;
		CREATE SEQUENCE items_id_seq AS integer;
		CREATE TABLE items (id int PRIMARY KEY DEFAULT nextval('items_id_seq'), n int);
		INSERT INTO items (n) SELECT g FROM generate_series(1, 100) g;
		ALTER TABLE items OWNER TO pgwiden_owner;
		ALTER SEQUENCE items_id_seq OWNER TO pgwiden_seq_owner;
		GRANT USAGE ON SEQUENCE items_id_seq TO pgwiden_owner`)
	before := catalogJSON(t, ctx, db)
	args := []string{"--dsn", db.DSNAs("pgwiden_owner"), "prepare", "--table", "items", "--column", "id"}
	_, stderr, code := runPgwiden(ctx, t, args...)
	want := `prepare public.items.id did not start, nothing was changed: it needs ownership of sequence public.items_id_seq; fix: connect as the owner of "public"."items_id_seq"`
	if code != 4 || strings.Count(stderr, "pgwiden: ") != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("prepare without the sequence's ownership: exit %d, stderr %q; want exit 4 and one error line containing %q", code, stderr, want)
	}
	t.Logf("refused: %s", stderr)
	if after := catalogJSON(t, ctx, db); after != before {
		t.Errorf("the refused prepare changed the schema:\n%s", firstDiff(before, after))
	}
	assertNoPgwidenObjects(t, ctx, db)

	db.Exec(t, `ALTER SEQUENCE items_id_seq OWNER TO pgwiden_owner`)
	if _, stderr, code := runPgwiden(ctx, t, args...); code != 0 {
		t.Fatalf("prepare once the sequence is the owner's: exit %d: %s", code, stderr)
	}
	if typ := readRows(t, ctx, db.Pool, `SELECT seqtypid::regtype::text FROM pg_sequence WHERE seqrelid = 'items_id_seq'::regclass`); len(typ) != 1 || typ[0] != "bigint" {
		t.Errorf("items_id_seq after prepare is %v, want bigint", typ)
	}
}

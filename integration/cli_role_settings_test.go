package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestRoleSettings: the migrating role has, as on many managed services, a
// 1s statement_timeout, a short idle_in_transaction_session_timeout, a
// lock_timeout, read-only transactions by default and a search_path
// without public, all with ALTER ROLE ... IN DATABASE ... SET. The table's
// expression index takes longer than 1s to build; the whole migration
// still succeeds through the CLI, which says which settings it overrode.
func TestRoleSettings(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	role := "r_" + db.Name
	db.Exec(t, `CREATE ROLE `+role+` LOGIN;
		GRANT CREATE ON DATABASE "`+db.Name+`" TO `+role+`;
		GRANT CREATE ON SCHEMA public TO `+role+`; -- CREATE INDEX needs it
		CREATE FUNCTION slow_key(bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS 'SELECT $1 + (pg_sleep(0.0005) IS NULL)::int';
		CREATE TABLE parents (id serial PRIMARY KEY, name text NOT NULL);
		CREATE TABLE kids (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES parents);
		INSERT INTO parents (name) SELECT 'p' || g FROM generate_series(1, 3000) g;
		INSERT INTO kids (parent_id) SELECT g FROM generate_series(1, 3000) g;
		CREATE INDEX kids_slow_idx ON kids (slow_key(parent_id));
		ALTER TABLE parents OWNER TO `+role+`;
		ALTER TABLE kids OWNER TO `+role+`;
		ALTER ROLE `+role+` IN DATABASE "`+db.Name+`" SET statement_timeout = '1s';
		ALTER ROLE `+role+` IN DATABASE "`+db.Name+`" SET idle_in_transaction_session_timeout = '200ms';
		ALTER ROLE `+role+` IN DATABASE "`+db.Name+`" SET lock_timeout = '50ms';
		ALTER ROLE `+role+` IN DATABASE "`+db.Name+`" SET default_transaction_read_only = on;
		ALTER ROLE `+role+` IN DATABASE "`+db.Name+`" SET search_path = nowhere;`)
	t.Cleanup(func() {
		db.Exec(t, `DROP OWNED BY `+role+`; DROP ROLE `+role)
	})
	dsn := db.DSNAs(role)
	target := []string{"--table", "parents", "--column", "id"}
	start := time.Now()
	var stderrs []string
	for _, ph := range []string{"prepare", "backfill", "cutover", "cleanup"} {
		args := append([]string{"--dsn", dsn, "--log-format", "json", ph}, target...)
		if ph == "cleanup" {
			args = append(args, "--yes")
		}
		_, stderr, code := runPgwiden(ctx, t, args...)
		if code != 0 {
			t.Fatalf("%s as a role with imposed settings: exit %d: %s", ph, code, stderr)
		}
		stderrs = append(stderrs, stderr)
	}
	t.Logf("migration took %v", time.Since(start))
	for _, want := range []string{
		`statement_timeout=1s (set by ALTER ROLE ... IN DATABASE) overridden for pgwiden's sessions`,
		`default_transaction_read_only=on (set by ALTER ROLE ... IN DATABASE) overridden`,
		`idle_in_transaction_session_timeout=200ms (set by ALTER ROLE ... IN DATABASE) overridden`,
		`lock_timeout=50ms (set by ALTER ROLE ... IN DATABASE) overridden`,
	} {
		if !strings.Contains(stderrs[0], want) {
			t.Errorf("prepare's log lacks %q:\n%s", want, stderrs[0])
		}
	}
	for _, c := range []string{"parents.id", "kids.parent_id"} {
		tab, col, _ := strings.Cut(c, ".")
		if typ := columnType(t, ctx, db.Pool, tab, col); typ != "bigint" {
			t.Errorf("%s is %s, want bigint", c, typ)
		}
	}
	var def string
	if err := db.Pool.QueryRow(ctx, `SELECT pg_get_indexdef('kids_slow_idx'::regclass)`).Scan(&def); err != nil ||
		def != "CREATE INDEX kids_slow_idx ON public.kids USING btree (public.slow_key(parent_id))" && def != "CREATE INDEX kids_slow_idx ON public.kids USING btree (slow_key(parent_id))" {
		t.Errorf("the slow index after cleanup: %q (%v)", def, err)
	}
	assertNoPgwidenObjects(t, ctx, db)
}

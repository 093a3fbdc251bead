package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestBackfillWALCompression backfills the same table twice on a server
// of the test's own, which writes full-page images as a production server
// does (the shared test server runs with full_page_writes off), each time
// right after a CHECKPOINT, so that the first change of every page writes
// its image. With --wal-compression (the default) the backfill must write
// less WAL than with --wal-compression=false: the images are about a
// quarter of it here, and they compress well (20% less in all, measured
// on PostgreSQL 15). Every row is copied both times.
func TestBackfillWALCompression(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	srv := startOwnServer(ctx, t)
	const rows = 20000
	wal := map[string]int64{}
	for _, on := range []string{"false", "true"} {
		db := srv.newDB(ctx, t, "wal_"+on)
		db.Exec(t, paddedItems(rows))
		throttleCLI(ctx, t, db, 0, "prepare")
		n := walWritten(ctx, t, db, func() {
			throttleCLI(ctx, t, db, 0, "backfill", "--batch-size", "1000", "--batch-target", "0", "--vacuum-fraction", "0", "--wal-compression="+on)
		})
		backfillDone(ctx, t, db, rows)
		wal[on] = n
		t.Logf("--wal-compression=%s: the backfill of %d rows wrote %d kB of WAL", on, rows, n/1024)
	}
	if float64(wal["true"]) > 0.9*float64(wal["false"]) {
		t.Errorf("with --wal-compression the backfill wrote %d kB of WAL, without %d kB: want at least 10%% less", wal["true"]/1024, wal["false"]/1024)
	}
}

// TestBackfillWALCompressionNotAllowed: a table owner that is not a
// superuser may not set wal_compression. The backfill runs without it,
// copies every row and says once how to allow it; on PostgreSQL 15+,
// once the role is granted SET on the parameter, it says nothing.
func TestBackfillWALCompressionNotAllowed(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, `DO $$ BEGIN CREATE ROLE pgwiden_owner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
		GRANT CREATE ON DATABASE `+pgx.Identifier{db.Name}.Sanitize()+` TO pgwiden_owner;
		CREATE TABLE items (id int PRIMARY KEY, n int);
		INSERT INTO items SELECT g, g FROM generate_series(1, 100) g;
		ALTER TABLE items OWNER TO pgwiden_owner`)
	dsn := db.DSNAs("pgwiden_owner")
	target := []string{"--table", "items", "--column", "id"}
	const says = "this role cannot set wal_compression"
	backfill := func() string {
		t.Helper()
		if _, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", dsn, "prepare"}, target...)...); code != 0 {
			t.Fatalf("prepare as the table's owner: exit %d: %s", code, stderr)
		}
		_, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", dsn, "--log-level", "info", "backfill"}, target...)...)
		if code != 0 {
			t.Fatalf("backfill as the table's owner: exit %d: %s", code, stderr)
		}
		var differ int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM items WHERE id_pgwiden_new IS DISTINCT FROM id`).Scan(&differ); err != nil || differ != 0 {
			t.Errorf("rows not copied: %d (%v)", differ, err)
		}
		if _, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", dsn, "rollback"}, target...)...); code != 0 {
			t.Fatalf("rollback: exit %d: %s", code, stderr)
		}
		return stderr
	}
	if stderr := backfill(); strings.Count(stderr, says) != 1 {
		t.Errorf("backfill as a role that cannot set wal_compression: want %q once in its log:\n%s", says, stderr)
	}
	if pgtest.Version() < 150000 {
		return // no GRANT SET ON PARAMETER before 15
	}
	db.Exec(t, "GRANT SET ON PARAMETER wal_compression TO pgwiden_owner")
	t.Cleanup(func() { db.Exec(t, "REVOKE SET ON PARAMETER wal_compression FROM pgwiden_owner") })
	if stderr := backfill(); strings.Contains(stderr, says) {
		t.Errorf("backfill as a role granted SET on wal_compression still says it cannot:\n%s", stderr)
	}
}

// walWritten runs run right after a CHECKPOINT, so that every page it
// changes first writes its full image as on a production server, and
// returns the bytes of WAL the server wrote meanwhile.
func walWritten(ctx context.Context, t *testing.T, db *pgtest.DB, run func()) int64 {
	t.Helper()
	db.Exec(t, "CHECKPOINT")
	var before string
	if err := db.Pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&before); err != nil {
		t.Fatal(err)
	}
	run()
	var n int64
	if err := db.Pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint", before).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

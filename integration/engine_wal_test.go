package integration

import (
	"testing"

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
		db.Exec(t, "CHECKPOINT")
		var before string
		if err := db.Pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&before); err != nil {
			t.Fatal(err)
		}
		throttleCLI(ctx, t, db, 0, "backfill", "--batch-size", "1000", "--batch-target", "0", "--vacuum-fraction", "0", "--wal-compression="+on)
		var n int64
		if err := db.Pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint", before).Scan(&n); err != nil {
			t.Fatal(err)
		}
		backfillDone(ctx, t, db, rows)
		wal[on] = n
		t.Logf("--wal-compression=%s: the backfill of %d rows wrote %d kB of WAL", on, rows, n/1024)
	}
	if float64(wal["true"]) > 0.9*float64(wal["false"]) {
		t.Errorf("with --wal-compression the backfill wrote %d kB of WAL, without %d kB: want at least 10%% less", wal["true"]/1024, wal["false"]/1024)
	}
}

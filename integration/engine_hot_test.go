package integration

import (
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestBackfillHotPasses: copied in one pass a batch, every row of a full
// table moves to another page, with a new index entry and the whole new
// version in the WAL; in four interleaved passes (the default), most rows
// are updated in place (HOT) and the backfill writes far less WAL. Counted
// from the rows' pages before and after, and from the WAL's position; no
// VACUUM runs in either.
//
// On a server of the test's own: pruning the first pass's dead versions,
// which makes room for the next passes, waits for every older transaction
// of the cluster, and the shared test server runs many tests at once.
func TestBackfillHotPasses(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	srv := startOwnServer(ctx, t)
	const rows = 20000
	stayed, wal := map[string]float64{}, map[string]int64{}
	for _, passes := range []string{"1", "4"} {
		db := srv.newDB(ctx, t, "hot_"+passes)
		db.Exec(t, paddedItems(rows))
		db.Exec(t, `CREATE TABLE pages_before AS SELECT id, (ctid::text::point)[0]::bigint AS page FROM items`)
		throttleCLI(ctx, t, db, 0, "prepare")
		wal[passes] = walWritten(ctx, t, db, func() {
			throttleCLI(ctx, t, db, 0, "backfill", "--batch-size", "500", "--batch-target", "0", "--vacuum-fraction", "0", "--hot-passes", passes)
		})
		backfillDone(ctx, t, db, rows)
		var same int64
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM items i JOIN pages_before b USING (id)
			WHERE (i.ctid::text::point)[0]::bigint = b.page`).Scan(&same)
		if err != nil {
			t.Fatal(err)
		}
		stayed[passes] = float64(same) / rows
		t.Logf("--hot-passes %s: %.0f%% of the rows stayed on their page; the backfill wrote %d kB of WAL", passes, 100*stayed[passes], wal[passes]/1024)
	}
	if stayed["1"] > 0.1 {
		t.Errorf("in one pass %.0f%% of the rows stayed on their page, want almost none: the table is not full, and the test measures nothing", 100*stayed["1"])
	}
	if stayed["4"] < 0.5 {
		t.Errorf("in four passes %.0f%% of the rows stayed on their page, want most (about 2 in 3)", 100*stayed["4"])
	}
	if float64(wal["4"]) > 0.8*float64(wal["1"]) {
		t.Errorf("in four passes the backfill wrote %d kB of WAL, in one %d kB: want at least 20%% less", wal["4"]/1024, wal["1"]/1024)
	}
}

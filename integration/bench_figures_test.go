package integration

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/internal/pgserver"
	"github.com/pgwiden/pgwiden/migrator"
)

// The figures of issue 11's table that bench_test.go's windows do not
// hold: the largest table's size before and after, the WAL written, and
// the single-statement UPDATE that is the ceiling of any shadow-column
// design. benchSummary prints them side by side, as docs/performance.md
// shows them.

// benchDisk is what a migration cost the server's disks.
type benchDisk struct {
	tableBefore, tableAfter     int64 // pg_table_size of pgbench_accounts
	indexesBefore, indexesAfter int64 // pg_indexes_size of pgbench_accounts
	wal                         int64 // WAL bytes written during the migration, the load's included
	walBaseRate                 float64
}

// benchLargest is the largest table of the pgbench data.
const benchLargest = "pgbench_accounts"

// benchServer is the benchmark's own server: as durable as a production
// one (fsync, full-page writes, synchronous commit on), which the shared
// test server is not, to be fast. WAL volume and commit waits mean nothing
// without them.
type benchServer struct {
	*pgserver.Server
	pgbench string
	dbs     int
}

// startBenchServer starts it as the tests find theirs (internal/pgserver),
// with the durable settings; the benchmark's cleanup stops it. A
// PGWIDEN_TEST_DSN server is the user's and runs as it is: the summary
// then shows its settings.
func startBenchServer(ctx context.Context, b *testing.B) *benchServer {
	ps, err := pgserver.Start(ctx, pgserver.Options{Settings: []string{"fsync=on", "full_page_writes=on", "synchronous_commit=on"}})
	if err != nil {
		b.Fatalf("start the benchmark's server: %v", err)
	}
	b.Cleanup(func() {
		if err := ps.Stop(); err != nil {
			b.Errorf("stop the benchmark's server: %v", err)
		}
	})
	srv := &benchServer{Server: ps}
	if srv.pgbench, err = ps.Tool("pgbench"); err != nil {
		b.Fatal(err)
	}
	return srv
}

// newDB creates a database on the server, dropped at the cleanup after
// its pool is closed.
func (srv *benchServer) newDB(ctx context.Context, b *testing.B) *pgtest.DB {
	srv.dbs++
	db := &pgtest.DB{Name: fmt.Sprintf("bench_%d", srv.dbs)}
	admin := func(sql string) error {
		conn, err := pgx.Connect(ctx, srv.AdminDSN())
		if err != nil {
			return err
		}
		defer conn.Close(ctx) // a short session: its close error changes nothing
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin("CREATE DATABASE " + pgx.Identifier{db.Name}.Sanitize()); err != nil {
		b.Fatalf("create database %s: %v", db.Name, err)
	}
	b.Cleanup(func() {
		// Only disk space is at stake: the server is removed at the end.
		if err := admin("DROP DATABASE IF EXISTS " + pgx.Identifier{db.Name}.Sanitize()); err != nil {
			b.Logf("drop database %s: %v", db.Name, err)
		}
	})
	var err error
	if db.DSN, err = dsn.WithDatabase(srv.AdminDSN(), db.Name); err != nil {
		b.Fatal(err)
	}
	if db.Pool, err = pgxpool.New(ctx, db.DSN); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Pool.Close)
	return db
}

// settings describes the server's durability settings, as they are.
func (srv *benchServer) settings(ctx context.Context, b *testing.B) string {
	conn, err := pgx.Connect(ctx, srv.AdminDSN())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx) // a short session: its close error changes nothing
	var s string
	err = conn.QueryRow(ctx, `SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings
		WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit', 'wal_compression', 'shared_buffers', 'max_wal_size')`).Scan(&s)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchWALBefore measures the load's own WAL rate while it settles, then
// records the sizes and the WAL position before the migration. The
// returned func records them after it.
func benchWALBefore(ctx context.Context, b *testing.B, pool *pgxpool.Pool, load *benchLoad) (after func() benchDisk) {
	var d benchDisk
	lsn0, start := benchLSN(ctx, b, pool), time.Now()
	load.settle()
	lsn1 := benchLSN(ctx, b, pool)
	d.walBaseRate = float64(benchWALBytes(ctx, b, pool, lsn0, lsn1)) / time.Since(start).Seconds()
	d.tableBefore, d.indexesBefore = benchSizes(ctx, b, pool)
	return func() benchDisk {
		d.wal = benchWALBytes(ctx, b, pool, lsn1, benchLSN(ctx, b, pool))
		d.tableAfter, d.indexesAfter = benchSizes(ctx, b, pool)
		return d
	}
}

func benchLSN(ctx context.Context, b *testing.B, pool *pgxpool.Pool) string {
	var lsn string
	if err := pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		b.Fatal(err)
	}
	return lsn
}

func benchWALBytes(ctx context.Context, b *testing.B, pool *pgxpool.Pool, from, to string) int64 {
	var n int64
	if err := pool.QueryRow(ctx, "SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::bigint", from, to).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

func benchSizes(ctx context.Context, b *testing.B, pool *pgxpool.Pool) (table, indexes int64) {
	err := pool.QueryRow(ctx, "SELECT pg_table_size(to_regclass($1)), pg_indexes_size(to_regclass($1))", benchLargest).Scan(&table, &indexes)
	if err != nil {
		b.Fatal(err)
	}
	return table, indexes
}

// benchUpdateCeiling is the ceiling of any shadow-column design on the
// same data under the same load: the shadow columns added beforehand (not
// timed), then one UPDATE per table copying the key, each in its own
// transaction. It holds every row it wrote locked until it commits, so
// the application stalls on the rows it touches; what it measures is the
// per-row work alone.
func benchUpdateCeiling(b *testing.B, srv *benchServer, scale int) *benchRun {
	ctx := benchContext(b)
	db := srv.benchDB(ctx, b, scale)
	db.Exec(b, `ALTER TABLE pgbench_accounts ADD COLUMN aid_new bigint; ALTER TABLE pgbench_history ADD COLUMN aid_new bigint`)
	r := &benchRun{phases: []string{"update"}, dur: map[string]time.Duration{}}
	load := startBenchLoad(ctx, b, db.DSN, scale, []string{"warmup", "baseline", "update", "tail"})
	after := benchWALBefore(ctx, b, db.Pool, load)

	load.enter("update")
	start := time.Now()
	for _, sql := range []string{"UPDATE pgbench_accounts SET aid_new = aid", "UPDATE pgbench_history SET aid_new = aid"} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	r.dur["update"] = time.Since(start)
	r.disk = after()
	load.enter("tail")
	time.Sleep(benchTail)
	r.app = load.stop()
	return r
}

// wall is the migration's whole duration: its phases, not the swap
// window, which is part of the cutover.
func (r *benchRun) wall() time.Duration {
	var d time.Duration
	for _, ph := range r.phases {
		if ph != "swap" {
			d += r.dur[ph]
		}
	}
	return d
}

// during is the application's experience over the whole migration: its
// throughput and its longest transaction.
func (r *benchRun) during() (tps float64, stall time.Duration, errs int64) {
	var txs int64
	var d time.Duration
	for _, ph := range r.phases {
		w := r.app[ph]
		txs, errs, d, stall = txs+w.txs, errs+w.errs, d+w.dur, max(stall, w.worst)
	}
	if d > 0 {
		tps = float64(txs) / d.Seconds()
	}
	return tps, stall, errs
}

// loadWAL estimates the WAL the application's own transactions wrote
// during the migration: its WAL per transaction before the migration
// times its transactions during it (fewer when the migration slows it).
func (r *benchRun) loadWAL() float64 {
	base := r.app["baseline"].tps
	if base <= 0 {
		return 0
	}
	var txs int64
	for _, ph := range r.phases {
		txs += r.app[ph].txs
	}
	return r.disk.walBaseRate / base * float64(txs)
}

// benchSummary prints issue 11's table: one column per run that ran, in
// the order given; nil runs are left out.
func benchSummary(b *testing.B, srv *benchServer, scale int, names []string, runs []*benchRun) {
	var cols []string
	var rs []*benchRun
	for i, r := range runs {
		if r != nil {
			cols, rs = append(cols, names[i]), append(rs, r)
		}
	}
	if len(rs) == 0 {
		return
	}
	var t strings.Builder
	fmt.Fprintf(&t, "pgbench -i -s %d --foreign-keys, %d tpcb-like clients throughout; PostgreSQL %d; %d CPUs (%s/%s); %s\n\n",
		scale, benchClients, srv.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, srv.settings(benchContext(b), b))
	fmt.Fprintf(&t, "| | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	row := func(label string, cell func(r *benchRun) string) {
		cells := make([]string, len(rs))
		for i, r := range rs {
			cells[i] = cell(r)
		}
		fmt.Fprintf(&t, "| %s | %s |\n", label, strings.Join(cells, " | "))
	}
	row("migration wall", func(r *benchRun) string {
		s := fmt.Sprintf("%.1f s", r.wall().Seconds())
		if len(r.phases) > 1 {
			s += fmt.Sprintf(" (backfill %.1f s, cutover %.1f s)", r.dur["backfill"].Seconds(), r.dur["cutover"].Seconds())
		}
		return s
	})
	row("longest application stall", func(r *benchRun) string { _, stall, _ := r.during(); return fmt.Sprintf("%.2f s", stall.Seconds()) })
	row("application errors", func(r *benchRun) string { _, _, errs := r.during(); return fmt.Sprint(errs) })
	row("application tps during (vs. before)", func(r *benchRun) string {
		tps, _, _ := r.during()
		s := fmt.Sprintf("%.0f%%", 100*tps/r.app["baseline"].tps)
		if w, ok := r.app["backfill"]; ok {
			s += fmt.Sprintf("; backfill %.0f%%", 100*w.tps/r.app["baseline"].tps)
		}
		return s
	})
	row(benchLargest+" size before → after", func(r *benchRun) string {
		return fmt.Sprintf("%d → %d MB (%.2fx)", r.disk.tableBefore/mib, r.disk.tableAfter/mib, float64(r.disk.tableAfter)/float64(r.disk.tableBefore))
	})
	row("its indexes before → after", func(r *benchRun) string {
		return fmt.Sprintf("%d → %d MB", r.disk.indexesBefore/mib, r.disk.indexesAfter/mib)
	})
	row("WAL written during (the load's share)", func(r *benchRun) string {
		return fmt.Sprintf("%d MB (~%.0f MB)", r.disk.wal/mib, r.loadWAL()/mib)
	})
	row("swap's wait for autovacuum", func(r *benchRun) string {
		if r.swap.Attempts == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f s", r.swap.VacuumWait.Seconds())
	})
	row("pgwiden memory (heap max; Sys max)", func(r *benchRun) string {
		if r.swap.Attempts == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f MB; %.0f MB", float64(r.mem.heapMax)/mib, float64(r.mem.sysMax)/mib)
	})
	b.Log("issue 11's table (the after size is after cleanup; the UPDATE ceiling has none):\n" + t.String())
}

// benchConfig is migrator.DefaultConfig with the levers the environment
// changes, so that each lever's effect can be measured on its own:
// PGWIDEN_BENCH_VACUUM_FRACTION (--vacuum-fraction),
// PGWIDEN_BENCH_ASYNC_COMMIT=0 (--async-commit=false),
// PGWIDEN_BENCH_WAL_COMPRESSION=0 (--wal-compression=false),
// PGWIDEN_BENCH_WORKERS (--workers) and PGWIDEN_BENCH_HOT_PASSES
// (--hot-passes).
func benchConfig(b *testing.B) migrator.Config {
	cfg := migrator.DefaultConfig()
	if s := os.Getenv("PGWIDEN_BENCH_VACUUM_FRACTION"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.Fatalf("PGWIDEN_BENCH_VACUUM_FRACTION=%q: want a fraction such as 0.1", s)
		}
		cfg.VacuumFraction = f
	}
	if s := os.Getenv("PGWIDEN_BENCH_ASYNC_COMMIT"); s != "" {
		on, err := strconv.ParseBool(s)
		if err != nil {
			b.Fatalf("PGWIDEN_BENCH_ASYNC_COMMIT=%q: want 0 or 1", s)
		}
		cfg.AsyncCommit = on
	}
	if s := os.Getenv("PGWIDEN_BENCH_WAL_COMPRESSION"); s != "" {
		on, err := strconv.ParseBool(s)
		if err != nil {
			b.Fatalf("PGWIDEN_BENCH_WAL_COMPRESSION=%q: want 0 or 1", s)
		}
		cfg.CompressWAL = on
	}
	cfg.Workers = benchEnvInt(b, "PGWIDEN_BENCH_WORKERS", cfg.Workers)
	cfg.HotPasses = benchEnvInt(b, "PGWIDEN_BENCH_HOT_PASSES", cfg.HotPasses)
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	b.Logf("pgwiden: --vacuum-fraction %g, --async-commit=%v, --wal-compression=%v, --maintenance-work-mem %d MB, --workers %d, --hot-passes %d",
		cfg.VacuumFraction, cfg.AsyncCommit, cfg.CompressWAL, cfg.MaintenanceWorkMem/mib, cfg.Workers, cfg.HotPasses)
	return cfg
}

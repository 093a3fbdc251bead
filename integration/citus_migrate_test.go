//go:build citus

package integration

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestCitusDistributedMigrates: campaigns.id, a serial of a hash-distributed
// table that is not its distribution column, pulls in ads.campaign_id (the
// composite foreign key (company_id, campaign_id)); every phase runs through
// the CLI while an application inserts and updates campaigns and ads through
// the coordinator. Afterwards every shard has the bigint column and nothing
// of pgwiden's, the rows are those the writer committed, and the new
// sequence hands out keys above every key used, past 2^31-1.
func TestCitusDistributedMigrates(t *testing.T) {
	for _, shape := range citusShapes {
		t.Run(shape.name, func(t *testing.T) { citusDistributedMigrates(t, shape.make(t)) })
	}
}

func citusDistributedMigrates(t *testing.T, db *pgtest.DB) {
	ctx := pgtest.Context(t)
	before := readRows(t, ctx, db.Pool, `SELECT company_id || ':' || id || ':' || name FROM campaigns ORDER BY 1`)
	// A key given explicitly, above the sequence: the new sequence must go
	// above it too.
	db.Exec(t, `INSERT INTO campaigns (company_id, id, name) VALUES (7, 5000, 'explicit')`)
	target := []string{"--table", "campaigns", "--column", "id"}
	out, _, code := runPgwiden(ctx, t, append([]string{"--dsn", db.DSN, "plan"}, target...)...)
	if code != 0 || strings.Count(out, "migrated online") != 2 {
		t.Fatalf("plan: exit %d, want 0 with both tables migrated online:\n%s", code, out)
	}
	w := startCitusWriter(t, ctx, db)
	runCitusPhases(t, ctx, db, target, "prepare")
	// A shard split while the migration runs: Citus builds the new shards
	// from the table's metadata, shadow column and sync trigger included.
	// The writer pauses meanwhile: with Citus 13.2.2, an UPDATE routed to
	// the shard being split in block_writes mode can report 0 rows (seen
	// without pgwiden too).
	w.opMu.Lock()
	splitFirstShard(t, ctx, db, "campaigns")
	w.opMu.Unlock()
	runCitusPhases(t, ctx, db, target, "backfill", "cutover", "cleanup")
	w.stop(t)
	t.Logf("the writer committed %d inserts and %d updates during the migration", w.inserts, w.updates)
	if w.inserts < 10 || w.updates < 10 {
		t.Errorf("the writer committed %d inserts and %d updates during the migration, want at least 10 of each", w.inserts, w.updates)
	}
	assertShardColumns(t, ctx, db, map[string]string{"campaigns": "id", "ads": "campaign_id"})
	after := readRows(t, ctx, db.Pool, `SELECT company_id || ':' || id || ':' || name FROM campaigns WHERE id <= 200 ORDER BY 1`)
	if joinLines(after) != joinLines(before) {
		t.Errorf("the 200 campaigns of the fixture changed")
	}
	w.assertCommitted(t, ctx, db)
	// The default draws from the new sequence, above every key used.
	var maxID, next int64
	if err := db.Pool.QueryRow(ctx, `SELECT max(id) FROM campaigns`).Scan(&maxID); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO campaigns (company_id, name) VALUES (1, 'after') RETURNING id`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	if next <= maxID {
		t.Errorf("the next key drawn is %d, not above the largest key %d", next, maxID)
	}
	db.Exec(t, `SELECT setval('campaigns_id_seq', 2147483647)`)
	if err := db.Pool.QueryRow(ctx, `INSERT INTO campaigns (company_id, name) VALUES (1, 'past int4') RETURNING id`).Scan(&next); err != nil || next != 2147483648 {
		t.Fatalf("insert past 2^31-1: id %d, %v", next, err)
	}
	db.Exec(t, `INSERT INTO ads (company_id, campaign_id) VALUES (1, 2147483648)`)
	if n := readRows(t, ctx, db.Pool, `SELECT count(*)::text FROM ads WHERE campaign_id = 2147483648`); joinLines(n) != "1" {
		t.Errorf("ads with campaign_id 2^31: %v", n)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO ads (company_id, campaign_id) VALUES (2, 2147483648)`); err == nil {
		t.Error("an ad referencing a campaign of another company was accepted: the foreign key is not in place")
	}
}

// TestCitusReferenceMigrates: countries.id, the key of a reference table
// (one shard, replicated), pulls in visits.country_id, a Citus local table
// referencing it; rows are written through the coordinator between phases.
// Then visits.id, the serial of that Citus local table, is migrated too.
func TestCitusReferenceMigrates(t *testing.T) {
	for _, shape := range citusShapes {
		t.Run(shape.name, func(t *testing.T) { citusReferenceMigrates(t, shape.make(t)) })
	}
}

func citusReferenceMigrates(t *testing.T, db *pgtest.DB) {
	ctx := pgtest.Context(t)
	before := readRows(t, ctx, db.Pool, `SELECT v.id || ':' || v.country_id || ':' || c.code FROM visits v JOIN countries c ON c.id = v.country_id ORDER BY v.id`)
	target := []string{"--table", "countries", "--column", "id"}
	for _, ph := range []string{"prepare", "backfill", "cutover", "cleanup"} {
		db.Exec(t, `WITH c AS (INSERT INTO countries (code) VALUES ('during `+ph+`') RETURNING id) INSERT INTO visits (country_id) SELECT id FROM c`)
		runCitusPhases(t, ctx, db, target, ph)
	}
	assertShardColumns(t, ctx, db, map[string]string{"countries": "id", "visits": "country_id"})
	after := readRows(t, ctx, db.Pool, `SELECT v.id || ':' || v.country_id || ':' || c.code FROM visits v JOIN countries c ON c.id = v.country_id WHERE c.code NOT LIKE 'during %' ORDER BY v.id`)
	if joinLines(after) != joinLines(before) {
		t.Errorf("visits and their countries changed:\n%s\nwant\n%s", joinLines(after), joinLines(before))
	}
	if n := readRows(t, ctx, db.Pool, `SELECT count(*)::text FROM visits v JOIN countries c ON c.id = v.country_id WHERE c.code LIKE 'during %'`); joinLines(n) != "4" {
		t.Errorf("visits written during the phases: %v, want 4", n)
	}
	db.Exec(t, `SELECT setval('countries_id_seq', 2147483647)`)
	var id int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO countries (code) VALUES ('big') RETURNING id`).Scan(&id); err != nil || id != 2147483648 {
		t.Fatalf("insert past 2^31-1: id %d, %v", id, err)
	}
	db.Exec(t, `INSERT INTO visits (country_id) VALUES (2147483648)`)
	// visits, a Citus local table, has its own serial: its key too.
	runCitusPhases(t, ctx, db, []string{"--table", "visits", "--column", "id"}, "prepare", "backfill", "cutover", "cleanup")
	assertShardColumns(t, ctx, db, map[string]string{"visits": "id"})
	var maxID, next int64
	if err := db.Pool.QueryRow(ctx, `SELECT max(id) FROM visits`).Scan(&maxID); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO visits (country_id) VALUES (1) RETURNING id`).Scan(&next); err != nil || next <= maxID {
		t.Errorf("visits: the next key drawn is %d (%v), not above the largest key %d", next, err, maxID)
	}
}

// TestCitusRollback: a rollback after the backfill and one after the
// cutover (with rows written in between, the second drawing keys from the
// new sequence) each leave the shell tables and every shard as they were
// before prepare, and the old sequence goes on above every key used.
func TestCitusRollback(t *testing.T) {
	for _, shape := range citusShapes {
		t.Run(shape.name, func(t *testing.T) { citusRollback(t, shape.make(t)) })
	}
}

func citusRollback(t *testing.T, db *pgtest.DB) {
	ctx := pgtest.Context(t)
	target := []string{"--table", "campaigns", "--column", "id"}
	schema := func() string { return joinLines(citusSchemaDump(t, ctx, db, "campaigns", "ads")) }
	want := schema()
	for _, upTo := range [][]string{{"prepare", "backfill"}, {"prepare", "backfill", "cutover"}} {
		runCitusPhases(t, ctx, db, target, upTo...)
		db.Exec(t, `INSERT INTO campaigns (company_id, name) VALUES (3, 'before rollback')`)
		runCitusPhases(t, ctx, db, target, "rollback")
		if got := schema(); got != want {
			t.Fatalf("after a rollback after %s, the schema differs from before prepare:\n%s\nwant\n%s", upTo[len(upTo)-1], got, want)
		}
	}
	var maxID, next int64
	if err := db.Pool.QueryRow(ctx, `SELECT max(id) FROM campaigns`).Scan(&maxID); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO campaigns (company_id, name) VALUES (1, 'after') RETURNING id`).Scan(&next); err != nil || next <= maxID {
		t.Errorf("after the rollbacks the next key is %d (%v), not above the largest key %d", next, err, maxID)
	}
}

// runCitusPhases runs pgwiden phases through the CLI, failing the test on
// a non-zero exit.
func runCitusPhases(t *testing.T, ctx context.Context, db *pgtest.DB, target []string, phases ...string) {
	t.Helper()
	for _, ph := range phases {
		args := append([]string{"--dsn", db.DSN, "--log-level", "warn", ph}, target...)
		switch ph {
		case "cleanup":
			args = append(args, "--yes")
		case "backfill": // several batches through the coordinator
			args = append(args, "--batch-size", "25", "--min-batch", "10", "--max-batch", "40")
		}
		if _, stderr, code := runPgwiden(ctx, t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", ph, code, stderr)
		}
	}
}

// splitFirstShard splits the table's first shard (and those colocated with
// it) in two, on the node that holds it; the old shards are left to
// Citus's deferred cleanup.
func splitFirstShard(t *testing.T, ctx context.Context, db *pgtest.DB, table string) {
	t.Helper()
	_, err := db.Pool.Exec(ctx, `SELECT citus_split_shard_by_split_points(s.shardid, ARRAY[((s.shardminvalue::bigint + s.shardmaxvalue::bigint) / 2)::text], ARRAY[n.nodeid, n.nodeid], 'block_writes')
		FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
		WHERE s.logicalrelid = $1::regclass ORDER BY s.shardid LIMIT 1`, table)
	if err != nil {
		t.Fatalf("split the first shard of %s: %v", table, err)
	}
}

// assertShardColumns checks, on the shell table and on every shard of each
// table (wherever Citus placed it), that the column is bigint and that
// nothing of pgwiden's is left: no shadow or old column, no sync trigger.
func assertShardColumns(t *testing.T, ctx context.Context, db *pgtest.DB, cols map[string]string) {
	t.Helper()
	for table, col := range cols {
		types := onShards(t, ctx, db, table, `SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = '`+col+`'`)
		types = append(types, columnType(t, ctx, db.Pool, table, col))
		if len(types) < 2 {
			t.Errorf("%s: %d shards, want at least one", table, len(types)-1)
		}
		for _, typ := range types {
			if typ != "bigint" {
				t.Errorf("%s.%s on the shell table and shards: %q, want bigint everywhere", table, col, types)
				break
			}
		}
		left := onShards(t, ctx, db, table, `SELECT coalesce(string_agg(x, ', '), '') FROM (
			SELECT attname::text x FROM pg_attribute WHERE attrelid = '%1$s'::regclass AND attname LIKE '%%pgwiden%%' AND NOT attisdropped
			UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = '%1$s'::regclass AND tgname LIKE '%%pgwiden%%') l`)
		left = append(left, citusSchemaDump(t, ctx, db, table)...)
		for _, l := range left {
			if strings.Contains(l, "pgwiden") {
				t.Errorf("%s: left on the table or a shard: %s", table, l)
			}
		}
	}
}

// onShards runs a query on every shard of table through Citus
// (run_command_on_shards: %s or %1$s is the shard's name, %% a %) and returns each
// shard's result, failing the test on a shard's error.
func onShards(t *testing.T, ctx context.Context, db *pgtest.DB, table, sql string) []string {
	t.Helper()
	rows := readRows(t, ctx, db.Pool, `SELECT CASE WHEN success THEN result ELSE 'ERROR ' || result END FROM run_command_on_shards($1, $2) ORDER BY shardid`, table, sql)
	for _, r := range rows {
		if strings.HasPrefix(r, "ERROR ") {
			t.Fatalf("%s on the shards of %s: %s", sql, table, r)
		}
	}
	return rows
}

// citusSchemaDump describes tables, on the coordinator and on each shard:
// columns with type, nullability and default, constraints with their
// validation, triggers; and the coordinator's sequences of schema public.
func citusSchemaDump(t *testing.T, ctx context.Context, db *pgtest.DB, tables ...string) []string {
	t.Helper()
	const describe = `SELECT string_agg(d, ' | ' ORDER BY d) FROM (
		SELECT 'column ' || attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(adbin, adrelid), '') d
		FROM pg_attribute a LEFT JOIN pg_attrdef f ON f.adrelid = a.attrelid AND f.adnum = a.attnum WHERE attrelid = '%1$s'::regclass AND attnum > 0 AND NOT attisdropped
		UNION ALL SELECT 'constraint ' || regexp_replace(conname, '_[0-9]+$', '') || ' ' || regexp_replace(pg_get_constraintdef(oid), '_[0-9]+\(', '(', 'g') || ' ' || convalidated FROM pg_constraint WHERE conrelid = '%1$s'::regclass
		UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = '%1$s'::regclass AND NOT tgisinternal) s`
	var out []string
	for _, table := range tables {
		shell := strings.ReplaceAll(strings.ReplaceAll(describe, "%1$s", table), "%%", "%")
		out = append(out, readRows(t, ctx, db.Pool, shell)...)
		out = append(out, onShards(t, ctx, db, table, describe)...)
	}
	return append(out, readRows(t, ctx, db.Pool, `SELECT 'sequence ' || relname FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace ORDER BY 1`)...)
}

// citusWriter is the application: it inserts campaigns (with an ad each)
// and renames campaigns it inserted, through the coordinator, and records
// what each committed transaction wrote.
type citusWriter struct {
	pool             *pgxpool.Pool
	stopping         atomic.Bool
	opMu             sync.Mutex // held during each operation; the test holds it to pause the writer
	wg               sync.WaitGroup
	mu               sync.Mutex
	names            map[int64]string // campaign id -> name committed last
	company          map[int64]int64
	inserts, updates int
	err              error
}

func startCitusWriter(t *testing.T, ctx context.Context, db *pgtest.DB) *citusWriter {
	t.Helper()
	// Simple protocol: no server-side prepared statement outlives the
	// swap's change of result type (the plan's prepared-statements warning).
	pool := enginePool(t, db.DSN, "citus-writer", 2, func(c *pgxpool.Config) {
		c.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	})
	w := &citusWriter{pool: pool, names: map[int64]string{}, company: map[int64]int64{}}
	w.wg.Add(1)
	go w.loop(ctx)
	return w
}

// loop writes until stop: between two operations, never cancelling one
// halfway, so that every commit is recorded.
func (w *citusWriter) loop(ctx context.Context) {
	defer w.wg.Done()
	rng := rand.New(rand.NewSource(15))
	for i := 0; !w.stopping.Load(); i++ {
		w.opMu.Lock()
		err := w.op(ctx, rng, i)
		w.opMu.Unlock()
		if err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
	}
}

// op inserts a campaign with an ad, or renames a campaign it inserted.
func (w *citusWriter) op(ctx context.Context, rng *rand.Rand, i int) error {
	name := fmt.Sprintf("w%d", i)
	w.mu.Lock()
	var ids []int64
	for id := range w.names {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) > 0 && i%2 == 1 {
		id := ids[rng.Intn(len(ids))]
		w.mu.Lock()
		company := w.company[id]
		w.mu.Unlock()
		tag, err := w.pool.Exec(ctx, `UPDATE campaigns SET name = $1 WHERE company_id = $2 AND id = $3`, name, company, id)
		if err != nil {
			return fmt.Errorf("update campaign %d: %w", id, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update campaign %d of company %d to %s: %d rows updated, want 1", id, company, name, tag.RowsAffected())
		}
		w.mu.Lock()
		w.names[id] = name
		w.updates++
		w.mu.Unlock()
		return nil
	}
	company := int64(1 + rng.Intn(20))
	var id int64
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO campaigns (company_id, name) VALUES ($1, $2) RETURNING id`, company, name).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ads (company_id, campaign_id) VALUES ($1, $2)`, company, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert campaign: %w", err)
	}
	w.mu.Lock()
	w.names[id], w.company[id] = name, company
	w.inserts++
	w.mu.Unlock()
	return nil
}

func (w *citusWriter) stop(t *testing.T) {
	t.Helper()
	w.stopping.Store(true)
	w.wg.Wait()
	if w.err != nil {
		t.Errorf("the writer failed during the migration: %v", w.err)
	}
}

// assertCommitted compares every campaign the writer inserted with what it
// committed last, and checks each has its ad.
func (w *citusWriter) assertCommitted(t *testing.T, ctx context.Context, db *pgtest.DB) {
	t.Helper()
	var want []string
	for id, name := range w.names {
		want = append(want, fmt.Sprintf("%d:%d:%s:1", w.company[id], id, name))
	}
	got := readRows(t, ctx, db.Pool, `SELECT c.company_id || ':' || c.id || ':' || c.name || ':' || (SELECT count(*) FROM ads a WHERE a.company_id = c.company_id AND a.campaign_id = c.id)
		FROM campaigns c WHERE c.name LIKE 'w%'`)
	slices.Sort(want)
	slices.Sort(got)
	if joinLines(got) != joinLines(want) {
		t.Errorf("the writer's campaigns differ from what it committed (%d rows, want %d): %s", len(got), len(want), firstDiff(joinLines(got), joinLines(want)))
	}
}

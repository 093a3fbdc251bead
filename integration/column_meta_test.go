package integration

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

var (
	metaSchema = filepath.Join("testdata", "engine", "column_meta.sql")
	metaTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "parent"}, Column: "id"}
)

// TestColumnMetadataFollowsMigration migrates parent.id (and with it
// child.parent_id) while a role that holds only column privileges reads
// and updates both tables in a loop: one of its privileges was granted by
// a role holding it WITH GRANT OPTION, so the swap must re-grant it as
// that role. The role must never get an error, permission denied least of
// all: the swap renames the columns and re-grants in one transaction.
// Before the swap the shadow columns must already have statistics
// gathered under the carried target and n_distinct, and the extended
// statistics copy its data. After cleanup, and after a rollback from
// after the cutover, every privilege, comment, statistics setting,
// extended statistics object and (15+) publication column list and row
// filter must be as before prepare.
func TestColumnMetadataFollowsMigration(t *testing.T) {
	for _, tc := range []struct {
		name string
		last string
	}{
		{name: "cleanup", last: "cleanup"},
		{name: "rollback after cutover", last: "rollback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, metaSchema)
			reader := setupColumnMeta(t, db)
			before := columnMetaState(t, ctx, db)

			hooks := migrator.Hooks{BeforeSwap: func(ctx context.Context) error { return wantShadowStatistics(ctx, db) }}
			e := newEngine(t, db, engineConfig(), hooks)
			loop := startReader(t, db.DSNAs(reader))
			for _, ph := range []string{"prepare", "backfill", "cutover", tc.last} {
				if err := metaPhase(ctx, e, ph); err != nil {
					t.Fatalf("%s: %v", ph, err)
				}
				loop.await(t, 20) // the role reads and writes after every phase
				if ph == "cutover" {
					wantLiveStatistics(t, ctx, db)
				}
			}
			loop.stop(t)

			if after := columnMetaState(t, ctx, db); after != before {
				t.Errorf("column metadata after %s differs from before prepare:\n%s", tc.last, firstDiff(before, after))
			}
			assertNoPgwidenObjects(t, ctx, db)
			if tc.last == "cleanup" {
				assertWidened(t, ctx, db, buildPlan(t, ctx, db, metaTarget))
			}
		})
	}
}

// metaPhase runs one engine phase on metaTarget.
func metaPhase(ctx context.Context, e *engine, name string) error {
	return phaseOn(ctx, e, metaTarget, name)
}

// phaseOn runs one engine phase on target.
func phaseOn(ctx context.Context, e *engine, target planner.Target, name string) error {
	return map[string]func(context.Context, planner.Target) error{
		"prepare": e.m.Prepare, "backfill": e.m.Backfill, "cutover": e.m.Cutover,
		"cleanup": e.m.Cleanup, "rollback": e.m.Rollback,
	}[name](ctx, target)
}

// setupColumnMeta creates the roles and column privileges (and, on 15+,
// the publications) of the scenario and returns the reading role. A
// delegate role holds UPDATE (parent_id) WITH GRANT OPTION and grants it
// on to the reader, so that grant is recorded as made by the delegate.
func setupColumnMeta(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	suffix := strings.TrimPrefix(db.Name, "t_") // roles are cluster-wide
	reader, delegate := "meta_reader_"+suffix, "meta_delegate_"+suffix
	// The delegate is dropped first: only its own REVOKE ... CASCADE
	// removes the grant it made.
	createRoles(t, db, []string{delegate, reader}, `
GRANT SELECT (id, name) ON parent TO :reader;
GRANT SELECT (id, parent_id, kind), UPDATE (kind) ON child TO :reader;
GRANT SELECT (parent_id), UPDATE (parent_id) ON child TO :delegate WITH GRANT OPTION;
SET ROLE :delegate;
GRANT UPDATE (parent_id) ON child TO :reader;
RESET ROLE;`, map[string]string{":reader": reader, ":delegate": delegate})
	if pgtest.Version() >= 150000 {
		// A row filter on a column outside the replica identity is only
		// allowed for a publication that does not publish UPDATE.
		db.Exec(t, `
CREATE PUBLICATION meta_cols FOR TABLE child (id, parent_id, kind), audit_log;
CREATE PUBLICATION meta_filter FOR TABLE child WHERE (parent_id > 0), audit_log WITH (publish = 'insert');`)
	} else {
		t.Logf("PostgreSQL %d has no publication column lists or row filters: that part is not exercised", pgtest.Version())
	}
	return reader
}

// readerLoop is an application role with column privileges only, reading
// and updating through its own connection.
type readerLoop struct {
	ops  atomic.Int64
	quit chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []string
}

// startReader runs the loop as role dsn until stop. It uses the simple
// protocol: a prepared statement's "cached plan must not change result
// type" after the swap is another matter (plan warns about it).
func startReader(t *testing.T, dsn string) *readerLoop {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(pgtest.Context(t), cfg)
	if err != nil {
		t.Fatalf("connect as the reader: %v", err)
	}
	l := &readerLoop{quit: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer conn.Close(context.Background())
		for i := 0; ; i++ {
			select {
			case <-l.quit:
				return
			default:
			}
			if err := readerOp(conn, 1+i%300); err != nil {
				l.mu.Lock()
				l.errs = append(l.errs, err.Error())
				l.mu.Unlock()
			}
			l.ops.Add(1)
		}
	}()
	t.Cleanup(func() { l.stop(t) })
	return l
}

// readerOp reads both tables by key and updates the child, reading only
// columns the role holds privileges on.
func readerOp(conn *pgx.Conn, key int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int
	// The role may read every column of parent: SELECT * includes the
	// shadow column from prepare on, and the retired one after the swap.
	rows, err := conn.Query(ctx, `SELECT * FROM parent WHERE id = $1`, key)
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		return fmt.Errorf("read parent %d: %w", key, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM child c JOIN parent p ON p.id = c.parent_id WHERE p.id = $1 AND c.kind >= 0`, key).Scan(&n); err != nil {
		return fmt.Errorf("join child to parent %d: %w", key, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE child SET kind = kind + 1, parent_id = parent_id WHERE id = $1`, key*10); err != nil {
		return fmt.Errorf("update child %d: %w", key*10, err)
	}
	return nil
}

// await waits until the loop has done n more operations.
func (l *readerLoop) await(t *testing.T, n int64) {
	t.Helper()
	want := l.ops.Load() + n
	for deadline := time.Now().Add(30 * time.Second); l.ops.Load() < want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the reader did %d of %d operations in 30s", l.ops.Load(), want)
		}
	}
}

// stop ends the loop and fails the test on any error it met.
func (l *readerLoop) stop(t *testing.T) {
	t.Helper()
	select {
	case <-l.quit:
		return
	default:
		close(l.quit)
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("the reader did %d operations", l.ops.Load())
	for i, e := range l.errs {
		if i == 5 {
			t.Errorf("... %d errors in all", len(l.errs))
			break
		}
		t.Errorf("the reader got: %s", e)
	}
}

// wantShadowStatistics runs just before the swap: the shadow columns must
// carry the old columns' settings and have statistics gathered under
// them (pg_stats.n_distinct is the override), and the extended statistics
// copy its data, so the application's planner never sees them bare.
func wantShadowStatistics(ctx context.Context, db *pgtest.DB) error {
	var target int
	var opts []string
	var nDistinct float64
	var extData bool
	err := db.Pool.QueryRow(ctx, `
SELECT coalesce(a.attstattarget::int, -1), coalesce(a.attoptions, '{}'),
       (SELECT s.n_distinct FROM pg_stats s WHERE s.schemaname = 'public' AND s.tablename = 'child' AND s.attname = a.attname),
       EXISTS (SELECT 1 FROM pg_statistic_ext x JOIN pg_statistic_ext_data d ON d.stxoid = x.oid
               WHERE x.stxname = 'child_parent_kind_pgwiden_new' AND d.stxdndistinct IS NOT NULL)
FROM pg_attribute a WHERE a.attrelid = 'child'::regclass AND a.attname = 'parent_id_pgwiden_new'`).Scan(&target, &opts, &nDistinct, &extData)
	switch {
	case err != nil:
		return fmt.Errorf("read the shadow column's statistics: %w", err)
	case target != 1000 || strings.Join(opts, ",") != "n_distinct=500" || nDistinct != 500 || !extData:
		return fmt.Errorf("before the swap child.parent_id_pgwiden_new has target %d, options %v, n_distinct %v in pg_stats, extended statistics data %v; want 1000, [n_distinct=500], 500, true",
			target, opts, nDistinct, extData)
	}
	return nil
}

// wantLiveStatistics checks, right after the cutover, that the live key
// has the statistics gathered before the swap.
func wantLiveStatistics(t *testing.T, ctx context.Context, db *pgtest.DB) {
	t.Helper()
	var nDistinct float64
	err := db.Pool.QueryRow(ctx, `SELECT n_distinct FROM pg_stats WHERE schemaname = 'public' AND tablename = 'child' AND attname = 'parent_id'`).Scan(&nDistinct)
	if err != nil || nDistinct != 500 {
		t.Errorf("after the cutover pg_stats has n_distinct %v for child.parent_id (err %v), want 500", nDistinct, err)
	}
}

// columnMetaState lists, one line each, what hangs on the columns of the
// tables of schema public (pgwiden's own columns left out): privileges with
// grantor and grant option, comments, statistics targets, attribute
// options, security labels, extended statistics objects with table,
// kinds, columns (sorted, as the column lists below), target, owner and
// comment, and every publication's tables with (15+)
// their column lists (sorted: the widened column comes last) and row
// filters, read from pg_publication_tables as JSON so one query serves
// every version.
func columnMetaState(t *testing.T, ctx context.Context, db *pgtest.DB) string {
	t.Helper()
	return joinLines(readRows(t, ctx, db.Pool, `
WITH cols AS (
  SELECT a.*, c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
    AND a.attnum > 0 AND NOT a.attisdropped AND a.attname NOT LIKE '%pgwiden%')
SELECT format('grant %s.%s %s to %s by %s%s', relname, attname, x.privilege_type,
              coalesce((SELECT rolname FROM pg_roles WHERE oid = x.grantee), 'PUBLIC'),
              (SELECT rolname FROM pg_roles WHERE oid = x.grantor), CASE WHEN x.is_grantable THEN ' with grant option' END)
FROM cols, aclexplode(attacl) x
UNION ALL SELECT format('comment %s.%s %s', relname, attname, col_description(attrelid, attnum)) FROM cols WHERE col_description(attrelid, attnum) IS NOT NULL
UNION ALL SELECT format('statistics target %s.%s %s', relname, attname, attstattarget) FROM cols WHERE coalesce(attstattarget::int, -1) <> -1
UNION ALL SELECT format('options %s.%s %s', relname, attname, attoptions) FROM cols WHERE attoptions IS NOT NULL
UNION ALL SELECT format('label %s.%s %s %s', relname, attname, l.provider, l.label) FROM cols JOIN pg_seclabel l ON l.objoid = attrelid AND l.objsubid = attnum
UNION ALL SELECT format('statistics object %s.%s kinds %s on %s target %s owner %s comment %s', s.stxrelid::regclass, s.stxname, s.stxkind,
                        (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute WHERE attrelid = s.stxrelid AND attnum = ANY (s.stxkeys)),
                        coalesce(to_jsonb(s) ->> 'stxstattarget', 'default'), pg_get_userbyid(s.stxowner), obj_description(s.oid, 'pg_statistic_ext'))
FROM pg_statistic_ext s
UNION ALL SELECT format('publication %s table %s columns %s filter %s', pt.pubname, pt.tablename,
                        (SELECT string_agg(c, ',' ORDER BY c) FROM jsonb_array_elements_text(to_jsonb(pt) -> 'attnames') c),
                        to_jsonb(pt) ->> 'rowfilter')
FROM pg_publication_tables pt`))
}

// TestCleanupRefusesUserDependents: after the cutover the application
// built an index, a CHECK constraint and a view on a retired column.
// DROP COLUMN would drop the first two silently and refuse the third, so
// cleanup must refuse before dropping anything, name each of them, and
// leave the migration cut over; once they are gone it finishes.
func TestCleanupRefusesUserDependents(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, metaSchema)
	e := newEngine(t, db, engineConfig(), noHooks)
	for _, ph := range []string{"prepare", "backfill", "cutover"} {
		if err := metaPhase(ctx, e, ph); err != nil {
			t.Fatalf("%s: %v", ph, err)
		}
	}
	db.Exec(t, `CREATE INDEX child_old_idx ON child (parent_id_pgwiden_old);
ALTER TABLE child ADD CONSTRAINT old_positive CHECK (parent_id_pgwiden_old > 0);
CREATE VIEW old_keys AS SELECT parent_id_pgwiden_old FROM child;`)

	err := metaPhase(ctx, e, "cleanup")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "2BP01" {
		t.Fatalf("cleanup = %v, want a refusal with SQLSTATE 2BP01", err)
	}
	t.Logf("cleanup: %v\nDETAIL: %s\nHINT: %s", err, pgErr.Detail, pgErr.Hint)
	if !strings.Contains(pgErr.Message, "nothing was dropped") {
		t.Errorf("the refusal does not say that nothing was dropped: %q", pgErr.Message)
	}
	for _, want := range []string{"index child_old_idx depends on column parent_id_pgwiden_old of child",
		"constraint old_positive on table child depends on", "view old_keys depends on"} {
		if strings.Count(pgErr.Detail, want) != 1 {
			t.Errorf("the refusal does not say %q once", want)
		}
	}
	if !strings.Contains(pgErr.Hint, "re-create it on the live column") {
		t.Errorf("the refusal's hint names no fix: %q", pgErr.Hint)
	}
	if j, jerr := e.st.Last(ctx, metaTarget); jerr != nil || j.Phase != "cut_over" {
		t.Errorf("after the refusal the migration is %v (err %v), want cut_over", j, jerr)
	}
	left := readRows(t, ctx, db.Pool, `SELECT attname::text FROM pg_attribute WHERE attrelid IN ('parent'::regclass, 'child'::regclass) AND attname LIKE '%pgwiden_old' AND NOT attisdropped
		UNION ALL SELECT tgname::text FROM pg_trigger WHERE tgname = 'zz_pgwiden_sync'
		UNION ALL SELECT stxname::text FROM pg_statistic_ext WHERE stxname LIKE '%pgwiden_old'`)
	if want := "child_parent_kind_pgwiden_old id_pgwiden_old parent_id_pgwiden_old zz_pgwiden_sync zz_pgwiden_sync"; strings.Join(left, " ") != want {
		t.Errorf("after the refusal: %v, want everything still there: %s", left, want)
	}

	db.Exec(t, `DROP VIEW old_keys; DROP INDEX child_old_idx; ALTER TABLE child DROP CONSTRAINT old_positive`)
	if err := metaPhase(ctx, e, "cleanup"); err != nil {
		t.Fatalf("cleanup once the user's objects are gone: %v", err)
	}
	assertNoPgwidenObjects(t, ctx, db)
}

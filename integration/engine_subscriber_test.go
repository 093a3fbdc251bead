package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// lsSchema is the replicated schema: a parent and a child with an FK, on
// both sides of the subscription.
const lsSchema = `
CREATE TABLE ls_parents (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE ls_items (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES ls_parents, qty int NOT NULL DEFAULT 0);
CREATE INDEX ls_items_parent_idx ON ls_items (parent_id);`

var lsTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "ls_parents"}, Column: "id"}

// lsRows is what both sides must agree on, in one comparable string.
const lsRows = `SELECT (SELECT count(*) || '/' || coalesce(sum(hashtext(id || ',' || name)), 0) FROM ls_parents)
	|| ' ' || (SELECT count(*) || '/' || coalesce(sum(hashtext(id || ',' || parent_id || ',' || qty)), 0) FROM ls_items)`

// subscribe makes sub a logical-replication subscriber of pub's ls_*
// tables. CREATE SUBSCRIPTION cannot make its slot in the same cluster
// (it would wait for itself), so the slot is made first. The cleanup
// drops the subscription and the slot before the databases go: a slot
// keeps its database from being dropped.
func subscribe(t *testing.T, pub, sub *pgtest.DB) string {
	t.Helper()
	name := "s_" + pub.Name
	pub.Exec(t, `CREATE PUBLICATION ls_pub FOR TABLE ls_parents, ls_items`)
	pub.Exec(t, fmt.Sprintf(`SELECT pg_create_logical_replication_slot('%s', 'pgoutput')`, name))
	sub.Exec(t, fmt.Sprintf(`CREATE SUBSCRIPTION %s CONNECTION '%s' PUBLICATION ls_pub WITH (create_slot = false, slot_name = '%s')`,
		name, strings.ReplaceAll(pub.DSN, "'", "''"), name))
	t.Cleanup(func() {
		sub.Exec(t, fmt.Sprintf(`ALTER SUBSCRIPTION %s DISABLE; ALTER SUBSCRIPTION %s SET (slot_name = NONE); DROP SUBSCRIPTION %s`, name, name, name))
		for deadline := time.Now().Add(30 * time.Second); ; {
			err := pub.Pool.QueryRow(context.Background(), `SELECT pg_drop_replication_slot($1)`, name).Scan(new(any))
			if err == nil || time.Now().After(deadline) {
				if err != nil {
					t.Errorf("drop slot %s: %v", name, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond) // the walsender takes a moment to exit
		}
	})
	return name
}

// replicated returns a publisher with rows and a subscriber that has
// caught up with it, and the subscription's name.
func replicated(t *testing.T, ctx context.Context) (pub, sub *pgtest.DB, name string) {
	t.Helper()
	pub, sub = pgtest.NewDB(t), pgtest.NewDB(t)
	pub.Exec(t, lsSchema+`
INSERT INTO ls_parents (name) SELECT 'p' || g FROM generate_series(1, 200) g;
INSERT INTO ls_items (parent_id, qty) SELECT 1 + g % 200, g FROM generate_series(1, 2000) g;`)
	sub.Exec(t, lsSchema)
	name = subscribe(t, pub, sub)
	awaitSame(t, ctx, pub, sub)
	return pub, sub, name
}

// awaitSame waits until the subscriber holds the publisher's rows.
func awaitSame(t *testing.T, ctx context.Context, pub, sub *pgtest.DB) string {
	t.Helper()
	var a, b string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := pub.Pool.QueryRow(ctx, lsRows).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := sub.Pool.QueryRow(ctx, lsRows).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a == b {
			return a
		}
	}
	t.Fatalf("the subscriber does not catch up: publisher %s, subscriber %s", a, b)
	return ""
}

// lsWriter inserts and updates rows on the publisher until stopped.
func lsWriter(ctx context.Context, pub *pgtest.DB, stop <-chan struct{}, ops *int) error {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		_, err := pub.Pool.Exec(ctx, `WITH p AS (INSERT INTO ls_parents (name) VALUES ('w' || $1::int) RETURNING id)
			INSERT INTO ls_items (parent_id, qty) SELECT id, $1 FROM p`, i)
		if err == nil {
			_, err = pub.Pool.Exec(ctx, `UPDATE ls_items SET qty = qty + 1 WHERE id = 1 + ($1::int * 7) % 2000`, i)
		}
		if err != nil {
			return err
		}
		*ops++
		time.Sleep(2 * time.Millisecond)
	}
}

// migrateWhileWriting migrates lsTarget in db, all four phases, while
// lsWriter writes on pub, and a little after; it returns the writes made.
func migrateWhileWriting(t *testing.T, ctx context.Context, db, pub *pgtest.DB) int {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var werr error
	ops := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		werr = lsWriter(ctx, pub, stop, &ops)
	}()
	e := newEngine(t, db, engineConfig(), noHooks)
	for _, ph := range []func(context.Context, planner.Target) error{e.m.Prepare, e.m.Backfill, e.m.Cutover, e.m.Cleanup} {
		if err := ph(ctx, lsTarget); err != nil {
			t.Errorf("migration of %s in %s: %v", lsTarget, db.Name, err)
			break
		}
	}
	time.Sleep(200 * time.Millisecond) // writes to the cleaned-up tables
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatalf("publisher writer after %d operations: %v", ops, werr)
	}
	if ops == 0 {
		t.Fatal("the publisher wrote nothing during the migration")
	}
	return ops
}

// TestEngineSubscriber migrates a logical-replication subscriber while its
// publisher inserts and updates throughout. The apply worker writes with
// session_replication_role = replica, so only a sync trigger enabled
// ALWAYS copies its rows; the cutover's verification would otherwise find
// them differing. After cleanup the subscription still applies and both
// sides hold the same rows.
func TestEngineSubscriber(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	pub, sub, name := replicated(t, ctx)

	ops := migrateWhileWriting(t, ctx, sub, pub)
	rows := awaitSame(t, ctx, pub, sub)
	t.Logf("publisher wrote %d times during the migration; both sides hold %s", ops, rows)

	for _, c := range []string{"ls_parents.id", "ls_items.parent_id"} {
		tab, col, _ := strings.Cut(c, ".")
		if typ := columnType(t, ctx, sub.Pool, tab, col); typ != "bigint" {
			t.Errorf("subscriber %s is %s, want bigint", c, typ)
		}
	}
	assertNoPgwidenObjects(t, ctx, sub)
	var worker bool
	if err := sub.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL)`, name).Scan(&worker); err != nil || !worker {
		t.Errorf("no apply worker runs for %s after cleanup (err %v)", name, err)
	}
	pub.Exec(t, `INSERT INTO ls_parents (name) VALUES ('after cleanup')`)
	awaitSame(t, ctx, pub, sub)
}

// TestEnginePublisher: plan tells a publisher's operator exactly which
// columns every subscriber needs before prepare; with them in place the
// publisher migrates while it writes, and the subscriber keeps applying
// to the end.
func TestEnginePublisher(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	pub, sub, _ := replicated(t, ctx)

	p := buildPlan(t, ctx, pub, lsTarget)
	var fixes []string
	for _, w := range p.Warnings {
		if w.Code == "publication" {
			fixes = append(fixes, w.Fix)
		}
	}
	for _, want := range []string{
		`widen "id" there first (pgwiden migrates a subscriber while it applies), then ALTER TABLE "public"."ls_parents" ADD COLUMN "id_pgwiden_new" bigint, ADD COLUMN "id_pgwiden_old" bigint`,
		`widen "parent_id" there first (pgwiden migrates a subscriber while it applies), then ALTER TABLE "public"."ls_items" ADD COLUMN "parent_id_pgwiden_new" bigint, ADD COLUMN "parent_id_pgwiden_old" bigint`,
	} {
		if !strings.Contains(strings.Join(fixes, "\n"), want) {
			t.Errorf("plan's publication warnings lack %q:\n%s", want, strings.Join(fixes, "\n"))
		}
	}
	// What the warning says, done on the (small) subscriber by hand.
	sub.Exec(t, `ALTER TABLE ls_parents ALTER COLUMN id TYPE bigint, ADD COLUMN id_pgwiden_new bigint, ADD COLUMN id_pgwiden_old bigint;
ALTER TABLE ls_items ALTER COLUMN parent_id TYPE bigint, ADD COLUMN parent_id_pgwiden_new bigint, ADD COLUMN parent_id_pgwiden_old bigint;`)

	ops := migrateWhileWriting(t, ctx, pub, pub)
	rows := awaitSame(t, ctx, pub, sub)
	t.Logf("publisher wrote %d times during its migration; both sides hold %s", ops, rows)
	assertNoPgwidenObjects(t, ctx, pub)
}

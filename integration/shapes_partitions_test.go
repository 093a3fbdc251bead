package integration

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

var (
	pagilaSchema = filepath.Join("testdata", "shapes", "pagila.sql")
	pagilaTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "customer"}, Column: "customer_id"}
)

// The rows of the pagila-shaped schema, as the writer's statements return
// them (RETURNING pagilaRow[table]).
var pagilaRow = map[string]string{
	"customer":       `customer_id::text, concat_ws('|', customer_id, store_id, first_name, last_name, active)`,
	"rental":         `note, concat_ws('|', rental_id, rental_date, inventory_id, customer_id)`,
	"payment":        `note, concat_ws('|', payment_id, customer_id, staff_id, rental_id, amount, payment_date, tableoid::regclass)`,
	"customer_event": `note, concat_ws('|', customer_id, kind, at, tableoid::regclass)`,
}

func pagilaTables() []shapeTable {
	var out []shapeTable
	for _, name := range []string{"customer", "rental", "payment", "customer_event"} {
		out = append(out, shapeTable{name: name, rows: "SELECT " + pagilaRow[name] + " FROM " + name})
	}
	return out
}

// pagilaOps insert, update and delete payments (moving them between
// partitions too), rentals and customer events (between the list, default
// and sub-partitioned partitions), and touch customers (their last_update
// trigger fires).
func pagilaOps() []shapeOp {
	date := func(w *shapeWriter) string {
		return fmt.Sprintf("2022-0%d-%02d 10:00:00+00", 1+w.rng.IntN(4), 1+w.rng.IntN(28))
	}
	kinds := []string{"visit", "call", "mail", "chat"}
	ret := func(table string) string { return " RETURNING " + pagilaRow[table] }
	return []shapeOp{
		{table: "payment", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date, note) VALUES ($1, 1, $2, $3, $4, $5)` + ret("payment"),
				[]any{1 + w.rng.IntN(300), 1 + w.rng.IntN(1500), w.rng.IntN(20) - 5, date(w), w.fresh()}, false, true
		}},
		{table: "payment", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("payment")
			return `UPDATE payment SET customer_id = $1, payment_date = $2 WHERE note = $3` + ret("payment"),
				[]any{1 + w.rng.IntN(300), date(w), note}, false, ok
		}},
		{table: "payment", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("payment")
			return `DELETE FROM payment WHERE note = $1 RETURNING note`, []any{note}, true, ok
		}},
		{table: "rental", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO rental (rental_date, inventory_id, customer_id, note) VALUES (now() + $1 * interval '1 s', 7, $2, $3)` + ret("rental"),
				[]any{w.seq, 1 + w.rng.IntN(300), w.fresh()}, false, true
		}},
		{table: "rental", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("rental")
			return `UPDATE rental SET customer_id = $1 WHERE note = $2` + ret("rental"), []any{1 + w.rng.IntN(300), note}, false, ok
		}},
		{table: "customer_event", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO customer_event (customer_id, kind, at, note) VALUES ($1, $2, $3, $4)` + ret("customer_event"),
				[]any{1 + w.rng.IntN(300), kinds[w.rng.IntN(len(kinds))], date(w), w.fresh()}, false, true
		}},
		{table: "customer_event", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("customer_event")
			return `UPDATE customer_event SET kind = $1, customer_id = $2, at = at + interval '400 days' WHERE note = $3` + ret("customer_event"),
				[]any{kinds[w.rng.IntN(len(kinds))], 1 + w.rng.IntN(300), note}, false, ok
		}},
		{table: "customer", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `UPDATE customer SET last_name = last_name || 'x' WHERE customer_id = $1` + ret("customer"), []any{1 + w.rng.IntN(300)}, false, true
		}},
	}
}

// TestShapePartitionFKs migrates customer.customer_id of the pagila-shaped
// schema under a writer. The foreign keys to it are declared on payment's
// partitions, not on payment: the closure must bring in payment with every
// partition (one has no key of its own), rebuild each partition's key and
// its own indexes, walk the keyless partitions by ctid, and widen
// customer_event (key on the parent, default and sub-partitioned
// partitions) too.
func TestShapePartitionFKs(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, pagilaSchema)
	p := buildPlan(t, ctx, db, pagilaTarget)
	tables := map[string]planner.TableChange{}
	for _, tc := range p.Tables {
		tables[tc.Table.String()] = tc
	}
	pay, ok := tables["public.payment"]
	if !ok || !pay.Partitioned || len(pay.Leaves) != 4 || !strings.Contains(pay.Columns[0].Why, "declared on its partition") {
		t.Fatalf("payment in the plan: %+v, want the partitioned table with its 4 partitions, pulled in by a partition's key", pay)
	}
	if ev := tables["public.customer_event"]; len(ev.Leaves) != 3 {
		t.Errorf("customer_event leaves = %v, want the default partition and the two sub-partitions", ev.Leaves)
	}
	for _, part := range []string{"payment_p2022_01", "payment_p2022_02", "payment_p2022_03"} {
		for _, id := range []string{
			"cutover/constraint/public." + part + "." + part + "_customer_id_fkey_pgwiden_new",
			"cutover/index/public.idx_fk_" + part + "_customer_id_pgwiden_new",
			"cutover/index/public." + part + "_customer_id_idx_pgwiden_new",
		} {
			if !slices.ContainsFunc(p.Steps, func(s planner.Step) bool { return s.ID == id }) {
				t.Errorf("no step %s", id)
			}
		}
	}
	if m := walkMethods(p)["public.payment_p2022_04"]; m == planner.WalkKey || m == "" {
		t.Errorf("payment_p2022_04 walk = %q, want a ctid walk (no key)", m)
	}
	w := newShapeWriter(t, ctx, db, pagilaTables(), pagilaOps())
	migrateUnder(t, ctx, db, pagilaTarget, w)
	// Every table of both trees has its key again, validated: the ones
	// declared on payment's partitions, and customer_event's on the
	// parent with its clones on the sub-partitioned partition and leaves.
	fks := readRows(t, ctx, db.Pool, `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' (not validated)' END
		FROM pg_constraint WHERE contype = 'f' AND confrelid = 'customer'::regclass`)
	var want []string
	for _, tab := range []string{"payment_p2022_01", "payment_p2022_02", "payment_p2022_03"} {
		want = append(want, tab+" "+tab+"_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer(customer_id)")
	}
	for _, tab := range []string{"customer_event", "customer_event_visit", "customer_event_visit_2022", "customer_event_visit_later", "customer_event_other"} {
		want = append(want, tab+" customer_event_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer(customer_id)")
	}
	want = append(want, "rental rental_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer(customer_id) ON UPDATE CASCADE ON DELETE RESTRICT")
	slices.Sort(want)
	if !slices.Equal(fks, want) {
		t.Errorf("foreign keys to customer after the migration:\n%s", firstDiff(joinLines(want), joinLines(fks)))
	}
	if got := readRows(t, ctx, db.Pool, `SELECT pg_get_indexdef('payment_p2022_02_customer_id_idx'::regclass)`); got[0] != "CREATE INDEX payment_p2022_02_customer_id_idx ON public.payment_p2022_02 USING btree (customer_id, payment_date DESC) WHERE (amount > (0)::numeric)" {
		t.Errorf("partition's own index after the migration: %s", got[0])
	}
}

// TestShapePartitionAttachedAfterPrepare creates a partition between
// prepare and cutover: the backfill never walked it, so the cutover must
// refuse, naming it, and go on once it is gone.
func TestShapePartitionAttachedAfterPrepare(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, pagilaSchema)
	e := newEngine(t, db, engineConfig(), noHooks)
	runTarget(t, ctx, e, pagilaTarget, "prepare", "backfill")
	db.Exec(t, `CREATE TABLE payment_p2022_05 PARTITION OF payment FOR VALUES FROM ('2022-05-01') TO ('2022-06-01')`)
	err := e.m.Cutover(ctx, pagilaTarget)
	if err == nil || !strings.Contains(err.Error(), "public.payment_p2022_05: a partition of public.payment since the migration was prepared") {
		t.Fatalf("cutover = %v, want a refusal naming payment_p2022_05", err)
	}
	if typ := columnType(t, ctx, db.Pool, "customer", "customer_id"); typ != "integer" {
		t.Fatalf("customer.customer_id is %s after the refused cutover, want integer", typ)
	}
	db.Exec(t, `DROP TABLE payment_p2022_05`)
	runTarget(t, ctx, e, pagilaTarget, "cutover", "cleanup")
	for _, tab := range []string{"customer", "payment", "payment_p2022_04", "customer_event_visit_later", "rental"} {
		if typ := columnType(t, ctx, db.Pool, tab, "customer_id"); typ != "bigint" {
			t.Errorf("%s.customer_id is %s, want bigint", tab, typ)
		}
	}
}

package integration

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// runwaySchema is an orders table whose serial id is 47 ids from the int4
// limit, with a child that copies the id through a foreign key.
const runwaySchema = `
CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL DEFAULT 'x');
CREATE TABLE items (id bigserial PRIMARY KEY, order_id int NOT NULL REFERENCES orders (id), qty int NOT NULL DEFAULT 1);
INSERT INTO orders (id, note) SELECT g, 'old ' || g FROM generate_series(1, 200) g;
INSERT INTO orders (id, note) SELECT g, 'top ' || g FROM generate_series(2147483550, 2147483600) g;
INSERT INTO items (order_id) SELECT id FROM orders;
SELECT setval('orders_id_seq', 2147483600);
`

// runRunway runs `pgwiden runway` on orders.id with flags and checks the
// exit code.
func runRunway(ctx context.Context, t *testing.T, db *pgtest.DB, want int, table string, flags ...string) (string, string) {
	t.Helper()
	args := append([]string{"--dsn", db.DSN, "--log-level", "warn", "runway", "--table", table, "--column", "id", "--lock-timeout", "200ms"}, flags...)
	stdout, stderr, code := runPgwiden(ctx, t, args...)
	if code != want {
		t.Fatalf("pgwiden runway %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", flags, code, want, stdout, stderr)
	}
	return stdout, stderr
}

// seqState reads a sequence's bounds, type and last value.
func seqState(t *testing.T, ctx context.Context, db *pgtest.DB, seq string) (typ string, minv, maxv, last int64) {
	t.Helper()
	err := db.Pool.QueryRow(ctx, `SELECT format_type(seqtypid, NULL), seqmin, seqmax, coalesce(pg_sequence_last_value(seqrelid), 0)
		FROM pg_sequence WHERE seqrelid = $1::regclass`, seq).Scan(&typ, &minv, &maxv, &last)
	if err != nil {
		t.Fatalf("read sequence %s: %v", seq, err)
	}
	return typ, minv, maxv, last
}

// writer inserts an order and an item for it every pace until stop, and
// records the new order ids and any error.
type writer struct {
	ids  []int64
	errs []error
	n    atomic.Int64
	mu   sync.Mutex
}

func (w *writer) run(ctx context.Context, db *pgtest.DB, pace time.Duration, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(pace):
		}
		var id int64
		// Unnamed statements, as behind PgBouncer: a prepared one fails
		// once after the swap (the plan warns about it), which is not
		// what this writer checks.
		err := db.Pool.QueryRow(ctx, "INSERT INTO orders (note) VALUES ('writer') RETURNING id", pgx.QueryExecModeSimpleProtocol).Scan(&id)
		if err == nil {
			_, err = db.Pool.Exec(ctx, "INSERT INTO items (order_id) VALUES ($1)", pgx.QueryExecModeSimpleProtocol, id)
		}
		w.mu.Lock()
		if err != nil {
			w.errs = append(w.errs, err)
		} else {
			w.ids = append(w.ids, id)
		}
		w.mu.Unlock()
		w.n.Add(1)
	}
}

// waitUntil polls cond every 20ms until it holds or ctx ends.
func waitUntil(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestRunwayUnderWriter(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, runwaySchema)

	// The writer uses about one id per 100ms: the runway has seconds to
	// land before the 47 ids left run out.
	w := &writer{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx, db, 100*time.Millisecond, stop) }()
	defer func() { close(stop); <-done }()
	waitUntil(ctx, t, "the writer's first rows", func() bool { return w.n.Load() >= 3 })

	out, _ := runRunway(ctx, t, db, 0, "orders", "--i-understand-ids-go-negative")
	for _, want := range []string{"MINVALUE -2147483648 MAXVALUE -1", "sort BEFORE every existing id", "public.items.order_id", "ALTER SEQUENCE"} {
		if !strings.Contains(out, want) {
			t.Errorf("runway output lacks %q:\n%s", want, out)
		}
	}
	start := w.n.Load()
	waitUntil(ctx, t, "rows after the runway", func() bool { return w.n.Load() >= start+5 })

	w.mu.Lock()
	ids, errs := append([]int64(nil), w.ids...), append([]error(nil), w.errs...)
	w.mu.Unlock()
	if len(errs) > 0 {
		t.Fatalf("the writer failed %d times, first: %v", len(errs), errs[0])
	}
	var negative int
	for i, id := range ids {
		if id < 0 {
			negative++
			if i > 0 && ids[i-1] < 0 && id <= ids[i-1] {
				t.Errorf("runway ids must ascend: %d after %d", id, ids[i-1])
			}
		} else if negative > 0 {
			t.Errorf("positive id %d handed out after negative ones", id)
		}
	}
	if negative < 5 || ids[len(ids)-negative] != -2147483648 {
		t.Fatalf("want the runway's ids from -2147483648 on, got %v", ids)
	}
	var children int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM items WHERE order_id < 0").Scan(&children); err != nil || children < negative {
		t.Errorf("items with negative order_id = %d (err %v), want at least %d", children, err, negative)
	}
	if typ, minv, maxv, _ := seqState(t, ctx, db, "orders_id_seq"); minv != -2147483648 || maxv != -1 {
		t.Errorf("sequence after runway: %s %d..%d", typ, minv, maxv)
	}
	// A second runway is refused: there is none left.
	_, stderr := runRunway(ctx, t, db, 4, "orders", "--i-understand-ids-go-negative")
	cliMatch(t, "second runway", `already in the negative range`, cliErrorLine(t, stderr))
}

func TestRunwayRefusals(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, `
CREATE DOMAIN positive_id AS integer CHECK (VALUE > 0);
CREATE TABLE checked (id serial PRIMARY KEY CHECK (id > 0));
CREATE TABLE mixed (id serial PRIMARY KEY, legacy boolean NOT NULL, CHECK (id > 0 OR legacy));
INSERT INTO mixed (legacy) VALUES (false);
CREATE TABLE lenient (id serial PRIMARY KEY CHECK (id <> 0));
CREATE TABLE parent (id serial PRIMARY KEY);
CREATE TABLE child (parent_id int REFERENCES parent (id) CHECK (parent_id > 0));
CREATE SEQUENCE dom_seq AS integer;
CREATE TABLE dom (id positive_id PRIMARY KEY DEFAULT nextval('dom_seq'));
CREATE TABLE plain (id int PRIMARY KEY);
CREATE SEQUENCE shared_seq;
CREATE TABLE shared_a (id int PRIMARY KEY DEFAULT nextval('shared_seq'));
CREATE TABLE shared_b (id int PRIMARY KEY DEFAULT nextval('shared_seq'));
CREATE TABLE cyc (id int PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY (CYCLE));
CREATE TABLE down (id int PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY -1));
CREATE TABLE ok (id serial PRIMARY KEY);
CREATE TABLE other (id serial PRIMARY KEY);
`)
	before := readRows(t, ctx, db.Pool, "SELECT seqrelid::regclass::text || ' ' || seqmin || ' ' || seqmax FROM pg_sequence")
	for _, c := range []struct {
		table, want string
		flags       []string
	}{
		{"checked", `public.checked.id would receive id -2147483648, which CHECK checked_id_check rejects`, nil},
		{"mixed", `public.mixed.id would receive id -2147483648, which CHECK mixed_check rejects`, nil},
		{"parent", `public.child.parent_id would receive id -2147483648, which CHECK child_parent_id_check rejects`, nil},
		{"dom", `public.dom.id is of domain public.positive_id, which rejects -2147483648`, nil},
		{"plain", `public.plain.id is not fed by a sequence or identity`, nil},
		{"shared_a", `public.shared_seq also feeds public.shared_b.id`, nil},
		{"cyc", `public.cyc_id_seq is CYCLE`, nil},
		{"down", `public.down_id_seq counts down already`, nil},
		{"ok", `public.ok.id is not fed by sequence public.other_id_seq but by public.ok_id_seq`, []string{"--sequence", "public.other_id_seq"}},
	} {
		t.Run(c.table, func(t *testing.T) {
			_, stderr := runRunway(ctx, t, db, 4, c.table, append(c.flags, "--i-understand-ids-go-negative")...)
			line := cliErrorLine(t, stderr)
			if !strings.Contains(line, c.want) {
				t.Errorf("error line %q lacks %q", line, c.want)
			}
		})
	}
	t.Run("confirmation", func(t *testing.T) {
		_, stderr := runRunway(ctx, t, db, 2, "ok")
		cliMatch(t, "without the flag", `pass --i-understand-ids-go-negative`, cliErrorLine(t, stderr))
	})
	t.Run("dry-run", func(t *testing.T) {
		out, _ := runRunway(ctx, t, db, 0, "lenient", "--dry-run")
		for _, want := range []string{"CHECK lenient_id_check on public.lenient accepts them", "Would run (dry run, nothing changed)"} {
			if !strings.Contains(out, want) {
				t.Errorf("dry run output lacks %q:\n%s", want, out)
			}
		}
	})
	after := readRows(t, ctx, db.Pool, "SELECT seqrelid::regclass::text || ' ' || seqmin || ' ' || seqmax FROM pg_sequence")
	assertUnchanged(t, "sequences after refusals and a dry run", before, after)
}

func TestRunwayUndo(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, runwaySchema)
	runRunway(ctx, t, db, 0, "orders", "--i-understand-ids-go-negative")

	// No room above the largest key yet: refused by the server, nothing changed.
	db.Exec(t, "INSERT INTO orders (id) VALUES (2147483647)")
	_, stderr := runRunway(ctx, t, db, 1, "orders", "--undo")
	cliMatch(t, "undo without room", `there is no positive range left`, cliErrorLine(t, stderr))
	if _, _, maxv, _ := seqState(t, ctx, db, "orders_id_seq"); maxv != -1 {
		t.Fatalf("a refused undo changed the sequence: max %d", maxv)
	}

	// The archive job deleted the top rows: undo goes on above row 200.
	db.Exec(t, "DELETE FROM items WHERE order_id > 200; DELETE FROM orders WHERE id > 200")
	runRunway(ctx, t, db, 0, "orders", "--undo")
	var id int64
	if err := db.Pool.QueryRow(ctx, "INSERT INTO orders DEFAULT VALUES RETURNING id").Scan(&id); err != nil || id != 201 {
		t.Errorf("first id after undo = %d (%v), want 201", id, err)
	}
	runRunway(ctx, t, db, 4, "orders", "--undo") // not on a runway any more
}

// TestRunwayWaitsForLock: the ALTER SEQUENCE waits at most --lock-timeout
// for its lock, then tries again later, until the lock is free.
func TestRunwayWaitsForLock(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, runwaySchema)
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A transaction that called nextval() holds ROW EXCLUSIVE on the
	// sequence until it ends; ALTER SEQUENCE needs SHARE ROW EXCLUSIVE.
	if _, err := tx.Exec(ctx, "INSERT INTO orders (note) VALUES ('long transaction')"); err != nil {
		t.Fatal(err)
	}
	committed := make(chan error, 1)
	go func() {
		select {
		case <-time.After(1500 * time.Millisecond):
			committed <- tx.Commit(ctx)
		case <-ctx.Done():
			committed <- tx.Rollback(context.Background())
		}
	}()
	start := time.Now()
	_, stderr := runRunway(ctx, t, db, 0, "orders", "--i-understand-ids-go-negative")
	if err := <-committed; err != nil {
		t.Fatalf("commit the long transaction: %v", err)
	}
	if took := time.Since(start); took < 1500*time.Millisecond {
		t.Errorf("runway took %s: it cannot have waited for the lock", took)
	}
	if !strings.Contains(stderr, "55P03") {
		t.Errorf("want the lock timeouts (SQLSTATE 55P03) logged as retries:\n%s", stderr)
	}
	if _, minv, maxv, _ := seqState(t, ctx, db, "orders_id_seq"); minv != -2147483648 || maxv != -1 {
		t.Errorf("sequence after the wait: %d..%d", minv, maxv)
	}
}

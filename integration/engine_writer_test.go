package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/internal/load"
	"github.com/pgwiden/pgwiden/migrator"
)

// TestEngineConcurrentWriters runs the whole migration while writers
// insert, update (keys and FK columns included) and delete rows in every
// kind of closure table: the plain parent, the composite-FK child, the
// partitioned child (moving rows between partitions too) and both levels
// of the chain.
// Each writer keeps in a Go map what it last wrote to its own key range.
// The writers must never see an error, and at the end the tables must hold
// exactly what the maps say.
func TestEngineConcurrentWriters(t *testing.T) {
	t.Parallel()
	underWriters(t, engineConfig())
}

// underWriters runs the migration with cfg under the writers of
// TestEngineConcurrentWriters and compares every row they wrote; it
// returns the database.
func underWriters(t *testing.T, cfg migrator.Config) *pgtest.DB {
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	app := enginePool(t, db.DSN, "app-writer", 4) // no lock_timeout: an application's defaults
	p := saasPlan(t, ctx, db)

	writers := make([]*appWriter, 4)
	specs := make([]load.Spec, len(writers))
	for i := range writers {
		w := &appWriter{pool: app, base: int64(i+1) * 100_000, rng: rand.New(rand.NewPCG(uint64(i), 7))}
		writers[i] = w
		if err := w.setup(ctx); err != nil {
			t.Fatalf("writer %d setup: %v", i, err)
		}
		// One worker per writer: its maps are its own. An operation under
		// way when the load stops runs to its end, so that the maps say
		// what it did.
		specs[i] = load.Spec{Name: fmt.Sprintf("writer %d", i), Pause: time.Millisecond, Workers: 1,
			Op: func(ctx context.Context, _ int, _ *rand.Rand) error { return w.op(context.WithoutCancel(ctx)) }}
	}
	run := load.Start(ctx, specs, "setup")

	e := newEngine(t, db, cfg, noHooks)
	for _, ph := range []string{"prepare", "backfill", "cutover", "cleanup"} {
		run.Enter(ph)
		if err := e.phase(ctx, ph); err != nil {
			t.Errorf("%s under writers: %v", ph, err)
			break
		}
	}
	run.Enter("after")
	time.Sleep(200 * time.Millisecond) // writes through the cleaned-up tables
	reps := run.Stop()

	var all int64
	worst, count := map[string]time.Duration{}, map[string]int64{}
	for i, rep := range reps {
		ops, errs, _, first := rep.Totals()
		all += ops
		if errs > 0 {
			t.Errorf("writer %d met %d errors in %d operations, first: %s", i, errs, ops, first)
		}
		for _, p := range rep.Phases {
			worst[p.Name], count[p.Name] = max(worst[p.Name], p.Max), count[p.Name]+p.Ops
		}
	}
	t.Logf("%d writer operations; swap: %d attempt(s), locks held at most %v", all, e.m.LastSwap.Attempts, e.m.LastSwap.Held)
	for _, ph := range []string{"prepare", "backfill", "cutover", "cleanup", "after"} {
		t.Logf("writers during %-9s %5d operations, worst latency %v", ph+":", count[ph], worst[ph])
		if worst[ph] > 5*time.Second {
			t.Errorf("a writer waited %v during %s", worst[ph], ph)
		}
		if count[ph] == 0 && (ph == "backfill" || ph == "cutover") {
			t.Errorf("no writer operation ran during %s: the test proves nothing about it", ph)
		}
	}
	if t.Failed() {
		return db
	}
	assertWidened(t, ctx, db, p)
	assertNoPgwidenObjects(t, ctx, db)
	for i, w := range writers {
		for _, q := range w.checks() {
			if got, want := readRows(t, ctx, db.Pool, q.sql, w.base), q.want(); !slices.Equal(got, want) {
				t.Errorf("writer %d, %s: table has %d rows, the writer wrote %d; first difference:\n%s", i, q.name, len(got), len(want), firstDiff(joinLines(want), joinLines(got)))
			}
		}
	}
	return db
}

// appWriter owns the keys [base, base+100000) of "Tags", tag_assignments,
// events and tag_stat_snapshots. Parent tags have children (stats,
// snapshots, details, assignments, events) and are never re-keyed or
// deleted; leaf tags have none, and are.
type appWriter struct {
	pool *pgxpool.Pool
	base int64
	rng  *rand.Rand

	next    int64
	parents []int64
	leaves  []int64
	tags    map[int64]string // "Id" -> tenant_id|name
	tenant  map[int64]int    // "Id" -> tenant_id
	stats   map[int64]int    // tag_id -> uses
	assigns map[int64]string // id -> tenant_id|tag_id|item_id
	events  map[int64]string // id -> created_at|tag_id
	snaps   map[int64]string // id -> tag_id|uses
}

// key hands out the writer's next key.
func (w *appWriter) key() int64 { w.next++; return w.base + w.next }

// setup writes the parent tags before the migration starts.
func (w *appWriter) setup(ctx context.Context) error {
	w.tags, w.tenant, w.stats = map[int64]string{}, map[int64]int{}, map[int64]int{}
	w.assigns, w.events, w.snaps = map[int64]string{}, map[int64]string{}, map[int64]string{}
	for range 4 {
		id, tenant := w.key(), w.rng.IntN(3)+1
		name := fmt.Sprintf("parent %d", id)
		_, err := w.pool.Exec(ctx, `INSERT INTO "Tags" ("Id", tenant_id, name) VALUES ($1, $2, $3);
			INSERT INTO tag_stats (tag_id) VALUES ($1); INSERT INTO tag_details ("TagId", description) VALUES ($1, 'parent')`,
			pgx.QueryExecModeSimpleProtocol, id, tenant, name)
		if err != nil {
			return err
		}
		w.parents, w.tags[id], w.tenant[id], w.stats[id] = append(w.parents, id), fmt.Sprintf("%d|%s", tenant, name), tenant, 0
	}
	return nil
}

// op does one random write and records it in the maps once it succeeded.
func (w *appWriter) op(ctx context.Context) error {
	exec := func(sql string, args ...any) error { _, err := w.pool.Exec(ctx, sql, args...); return err }
	pick := func(keys []int64) int64 { return keys[w.rng.IntN(len(keys))] }
	switch n := w.rng.IntN(10); {
	case n == 0 || len(w.leaves) < 3: // a new leaf tag
		id, tenant := w.key(), w.rng.IntN(3)+1
		if err := exec(`INSERT INTO "Tags" ("Id", tenant_id, name) VALUES ($1, $2, $3)`, id, tenant, "leaf"); err != nil {
			return err
		}
		w.leaves, w.tags[id], w.tenant[id] = append(w.leaves, id), fmt.Sprintf("%d|leaf", tenant), tenant
	case n == 1: // rename any tag
		id := pick(slices.Concat(w.leaves, w.parents))
		name := fmt.Sprintf("renamed %d", w.rng.IntN(1000))
		if err := exec(`UPDATE "Tags" SET name = $2 WHERE "Id" = $1`, id, name); err != nil {
			return err
		}
		w.tags[id] = fmt.Sprintf("%d|%s", w.tenant[id], name)
	case n == 2: // re-key a leaf: the key itself changes
		i := w.rng.IntN(len(w.leaves))
		old, id := w.leaves[i], w.key()
		if err := exec(`UPDATE "Tags" SET "Id" = $2 WHERE "Id" = $1`, old, id); err != nil {
			return err
		}
		w.leaves[i], w.tags[id], w.tenant[id] = id, w.tags[old], w.tenant[old]
		delete(w.tags, old)
		delete(w.tenant, old)
	case n == 3: // delete a leaf
		i := w.rng.IntN(len(w.leaves))
		if err := exec(`DELETE FROM "Tags" WHERE "Id" = $1`, w.leaves[i]); err != nil {
			return err
		}
		delete(w.tags, w.leaves[i])
		delete(w.tenant, w.leaves[i])
		w.leaves = slices.Delete(w.leaves, i, i+1)
	case n == 4 || len(w.assigns) == 0: // assign a parent tag (composite FK)
		id, tag := w.key(), pick(w.parents)
		if err := exec(`INSERT INTO tag_assignments (id, tenant_id, tag_id, item_id) VALUES ($1, $2, $3, $4)`, id, w.tenant[tag], tag, id); err != nil {
			return err
		}
		w.assigns[id] = fmt.Sprintf("%d|%d|%d", w.tenant[tag], tag, id)
	case n == 5: // move an assignment to another parent: both FK columns change
		id, tag := pickKey(w.rng, w.assigns), pick(w.parents)
		if err := exec(`UPDATE tag_assignments SET tenant_id = $2, tag_id = $3 WHERE id = $1`, id, w.tenant[tag], tag); err != nil {
			return err
		}
		w.assigns[id] = fmt.Sprintf("%d|%d|%d", w.tenant[tag], tag, id)
	case n == 6: // delete an assignment
		id := pickKey(w.rng, w.assigns)
		if err := exec(`DELETE FROM tag_assignments WHERE id = $1`, id); err != nil {
			return err
		}
		delete(w.assigns, id)
	case n == 7 || len(w.events) == 0: // an event in either partition
		id, tag, day := w.key(), pick(w.parents), w.day()
		if err := exec(`INSERT INTO events (id, created_at, tag_id) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)`, id, day, tag); err != nil {
			return err
		}
		w.events[id] = fmt.Sprintf("%s|%d", day, tag)
	case n == 8: // move an event: new tag, maybe the other partition
		id, tag, day := pickKey(w.rng, w.events), pick(w.parents), w.day()
		if err := exec(`UPDATE events SET created_at = $2, tag_id = $3 WHERE id = $1`, id, day, tag); err != nil {
			return err
		}
		w.events[id] = fmt.Sprintf("%s|%d", day, tag)
	default: // count a use in the chain's middle table, snapshot it in the last
		tag, id := pick(w.parents), w.key()
		if err := exec(`UPDATE tag_stats SET uses = uses + 1 WHERE tag_id = $1`, tag); err != nil {
			return err
		}
		w.stats[tag]++
		if err := exec(`INSERT INTO tag_stat_snapshots (id, tag_id, uses) VALUES ($1, $2, $3)`, id, tag, w.stats[tag]); err != nil {
			return err
		}
		w.snaps[id] = fmt.Sprintf("%d|%d", tag, w.stats[tag])
	}
	return nil
}

func (w *appWriter) day() string {
	return time.Date(2025+w.rng.IntN(2), time.Month(1+w.rng.IntN(12)), 1+w.rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func pickKey(rng *rand.Rand, m map[int64]string) int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[rng.IntN(len(keys))]
}

// rowCheck is one query over the writer's key range and the rows it expects.
type rowCheck struct {
	name string
	sql  string
	want func() []string
}

func (w *appWriter) checks() []rowCheck {
	lines := func(m map[int64]string) func() []string {
		return func() []string {
			var out []string
			for k, v := range m {
				out = append(out, fmt.Sprintf("%d|%s", k, v))
			}
			slices.Sort(out)
			return out
		}
	}
	stats := map[int64]string{}
	for k, v := range w.stats {
		stats[k] = fmt.Sprint(v)
	}
	return []rowCheck{
		{"Tags", `SELECT "Id"::text || '|' || tenant_id || '|' || name FROM "Tags" WHERE "Id" >= $1 AND "Id" < $1 + 100000`, lines(w.tags)},
		{"tag_stats", `SELECT tag_id::text || '|' || uses FROM tag_stats WHERE tag_id >= $1 AND tag_id < $1 + 100000`, lines(stats)},
		{"tag_assignments", `SELECT id::text || '|' || tenant_id || '|' || tag_id || '|' || item_id FROM tag_assignments WHERE id >= $1 AND id < $1 + 100000`, lines(w.assigns)},
		{"events", `SELECT id::text || '|' || created_at || '|' || tag_id FROM events WHERE id >= $1 AND id < $1 + 100000`, lines(w.events)},
		{"tag_stat_snapshots", `SELECT id::text || '|' || tag_id || '|' || uses FROM tag_stat_snapshots WHERE id >= $1 AND id < $1 + 100000`, lines(w.snaps)},
	}
}

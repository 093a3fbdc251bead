package integration

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/rehearsal"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// The rehearsal against production statistics, without pg_dump, under a
// lock that makes prepare retry, and with a phase that fails; the report
// tests and the refusals are in rehearse_test.go.

// TestRehearseProduction extrapolates from another database standing in
// for production, with ten times the rows, which must be left exactly as
// it was: no schema pgwiden, the same schema and the same rows.
func TestRehearseProduction(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	staging := newDBWith(t, saasSchema)
	prod := newDBWith(t, saasSchema)
	prod.Exec(t, `INSERT INTO "Tags" (tenant_id, name) SELECT 1 + g % 3, 'more ' || g FROM generate_series(1, 9000) g;
		INSERT INTO tag_assignments (tenant_id, tag_id, item_id) SELECT tenant_id, "Id", 3 FROM "Tags";
		ANALYZE`)
	prodBefore := schemaDump(t, prod)
	rowsBefore := prodDigest(t, ctx, prod)
	path := filepath.Join(t.TempDir(), "report.json")
	runRehearse(ctx, t, staging, 0, nil, "--i-know-this-is-staging", "--production-dsn", prod.DSN, "--report", path, "--json")
	rep := readRehearseJSON(t, path)
	if !rep.Passed || rep.Production == nil || rep.Production.Database != prod.Name || rep.Extrapolation == nil {
		t.Fatalf("report: passed %v, production %+v, extrapolation %v, problems %q", rep.Passed, rep.Production, rep.Extrapolation != nil, rep.Problems)
	}
	if !strings.Contains(rep.Extrapolation.Source, prod.Name) {
		t.Errorf("extrapolation source %q does not name %s", rep.Extrapolation.Source, prod.Name)
	}
	factors := map[string]float64{}
	for _, tf := range rep.Extrapolation.Tables {
		factors[tf.Table] = tf.RowFactor
	}
	// Tags: 10,000 rows for 1,000; tag_assignments: 11,500 for 1,500.
	if f := factors["public.Tags"]; f < 9.9 || f > 10.1 {
		t.Errorf("Tags row factor %v, want 10", f)
	}
	if f := factors["public.tag_assignments"]; f < 7.6 || f > 7.7 {
		t.Errorf("tag_assignments row factor %v, want 11500/1500", f)
	}
	if after := schemaDump(t, prod); after != prodBefore {
		t.Errorf("production's schema changed:\n%s", firstDiff(prodBefore, after))
	}
	if got := prodDigest(t, ctx, prod); !slices.Equal(got, rowsBefore) {
		t.Errorf("production's rows changed: %v, then %v", rowsBefore, got)
	}
	var ns *string
	if err := prod.Pool.QueryRow(ctx, "SELECT to_regnamespace('pgwiden')::text").Scan(&ns); err != nil || ns != nil {
		t.Errorf("schema pgwiden in production: %v (err %v), want none", ns, err)
	}
}

// prodDigest counts and checksums every table of saas.sql.
func prodDigest(t *testing.T, ctx context.Context, db *pgtest.DB) []string {
	t.Helper()
	var out []string
	for _, table := range []string{"tenants", `"Tags"`, "tag_stats", "tag_stat_snapshots", "tag_assignments", "tag_details", "events"} {
		var sum string
		q := "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM " + table + " t"
		if err := db.Pool.QueryRow(ctx, q).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		out = append(out, table+"="+sum)
	}
	return out
}

// TestRehearseCatalogFallback: without pg_dump (not in PATH, no
// pg_config), the rollback's check compares catalog snapshots, and says so.
func TestRehearseCatalogFallback(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	path := filepath.Join(t.TempDir(), "report.json")
	runRehearse(ctx, t, db, 0, []string{"PATH=" + t.TempDir()}, "--i-know-this-is-staging", "--report", path, "--json")
	rep := readRehearseJSON(t, path)
	c := rep.SchemaCheck
	if !rep.Passed || c == nil || c.Method != "catalog" || !c.Checked || !c.Identical || !strings.Contains(c.Fallback, "pg_dump") {
		t.Errorf("passed %v, schema check %+v: want the catalog snapshot, identical, and why pg_dump was not used", rep.Passed, c)
	}
}

// TestRehearseProductionMustBeReadOnly: the rehearsal reads production
// only through a read-only session, and refuses any other before writing.
func TestRehearseProductionMustBeReadOnly(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	staging := newDBWith(t, saasSchema)
	prod := newDBWith(t, saasSchema)
	pool := enginePool(t, staging.DSN, "pgwiden", 2)
	st, err := state.Open(ctx, pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	cfg := migrator.DefaultConfig()
	m := migrator.New(pool, st, &throttle.Fixed{BatchSize: engineBatch}, zerolog.Nop(), cfg, migrator.Hooks{})
	d := rehearsal.Deps{Pool: pool, Migrator: m, Store: st, Production: prod.Pool, Log: zerolog.Nop()}
	err = rehearsal.New(d, rehearsal.Config{Target: saasTarget, AssumeStaging: true, Engine: cfg}).Check(ctx)
	var re *rehearsal.RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "not read-only") {
		t.Fatalf("Check with a read-write production session: %v, want a refusal", err)
	}
	var ns *string
	if err := staging.Pool.QueryRow(ctx, "SELECT to_regnamespace('pgwiden')::text").Scan(&ns); err != nil || ns != nil {
		t.Errorf("schema pgwiden on staging after the refusal: %v (err %v), want none", ns, err)
	}
}

// TestRehearseReportsRetries: a transaction holding a lock on the target
// table makes prepare's ACCESS EXCLUSIVE step time out and retry; the
// migrator's warning is in the report, and the step's time includes the
// wait.
func TestRehearseReportsRetries(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	pgtest.Binary(t) // built before the lock is taken: the build takes seconds
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE "Tags" IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	// Release the lock once prepare has queued for it (and timed out) a
	// few times; a slow machine only makes the rehearsal reach it later.
	go func() {
		defer tx.Rollback(context.Background()) //nolint:errcheck // only a lock to release
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			var waiting bool
			err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_locks WHERE relation = '"Tags"'::regclass AND NOT granted)`).Scan(&waiting)
			if err != nil || waiting {
				time.Sleep(600 * time.Millisecond)
				return
			}
		}
	}()
	path := filepath.Join(t.TempDir(), "report.json")
	runRehearse(ctx, t, db, 0, nil, "--i-know-this-is-staging", "--lock-timeout", "100ms", "--report", path, "--json")
	rep := readRehearseJSON(t, path)
	if !rep.Passed {
		t.Fatalf("problems: %q", rep.Problems)
	}
	retries := 0
	for _, w := range rep.Warnings {
		if w.Source == "log" && w.Message == "retry" {
			retries++
		}
	}
	if retries == 0 {
		t.Errorf("no retry among the warnings: %+v", rep.Warnings)
	}
	for _, s := range rep.Locks.Steps {
		if s.Step == "prepare/add-shadow/public.Tags" && s.TookMS < 500 {
			t.Errorf("%s took %vms, want the wait for the lock counted", s.Step, s.TookMS)
		}
	}
}

// TestRehearseFailedPhaseRollsBack: when a phase fails (here the swap,
// through the engine's hook), the rehearsal still rolls back, and the
// report says what failed; the schema is as it was.
func TestRehearseFailedPhaseRollsBack(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	pool := enginePool(t, db.DSN, "pgwiden", 2)
	st, err := state.Open(ctx, pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	cfg := engineConfig()
	hooks := migrator.Hooks{BeforeSwap: func(context.Context) error { return errors.New("injected: no swap today") }}
	m := migrator.New(pool, st, &throttle.Fixed{BatchSize: engineBatch}, log, cfg, hooks)
	d := rehearsal.Deps{Pool: pool, Migrator: m, Store: st, Log: zerolog.Nop()}
	rep, err := rehearsal.New(d, rehearsal.Config{Target: saasTarget, DSN: db.DSN, AssumeStaging: true, Engine: cfg}).Run(ctx)
	var fe *rehearsal.FailedError
	if !errors.As(err, &fe) || rep == nil {
		t.Fatalf("Run: %v (report %v), want a *FailedError and a report", err, rep != nil)
	}
	if rep.Passed || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "cutover failed") || !strings.Contains(rep.Problems[0], "injected") {
		t.Errorf("passed %v, problems %q: want the cutover's failure only", rep.Passed, rep.Problems)
	}
	var names []string
	for _, p := range rep.Phases {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"prepare", "backfill", "cutover", "rollback"}) || rep.Phases[2].OK || !rep.Phases[3].OK {
		t.Errorf("phases %v (cutover ok %v, rollback ok %v)", names, rep.Phases[2].OK, rep.Phases[3].OK)
	}
	// The verification comes before the swap: it passed.
	if !rep.Verification.Passed || rep.Locks.Swap != nil || rep.FinalPhase != "rolled_back" {
		t.Errorf("verification passed %v, swap %v, final phase %s", rep.Verification.Passed, rep.Locks.Swap, rep.FinalPhase)
	}
	if c := rep.SchemaCheck; c == nil || !c.Checked || !c.Identical {
		t.Errorf("schema check %+v, want identical after the rollback", c)
	}
	if after := schemaDump(t, db); after != before {
		t.Errorf("schema differs after the failed rehearsal:\n%s", firstDiff(before, after))
	}
}

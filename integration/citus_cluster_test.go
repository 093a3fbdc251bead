//go:build citus

package integration

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/internal/pgserver"
)

// citusShapes are the two cluster shapes every migration test runs on: a
// single node whose coordinator holds the shards, and a coordinator whose
// shards all live on one worker (a second local server).
var citusShapes = []struct {
	name string
	make func(t *testing.T) *pgtest.DB
}{
	{"single-node", newCitusDB},
	{"coordinator+worker", newCitusWorkerDB},
}

// newCitusWorkerDB makes a coordinator with one worker: the worker is a
// second local server with the same settings and a database of the same
// name, added with citus_add_node; the coordinator holds no shards, so
// every shard of the distributed and reference tables is remote.
func newCitusWorkerDB(t *testing.T) *pgtest.DB {
	t.Helper()
	ctx := pgtest.Context(t)
	worker, err := pgserver.Start(ctx, pgserver.Options{Settings: citusSettings})
	if err != nil {
		t.Fatalf("start the worker: %v", err)
	}
	t.Cleanup(func() { _ = worker.Stop() })
	if worker.Kind() != pgserver.KindLocal {
		t.Fatalf("the worker is a %s server: the coordinator+worker tests need local binaries (unset PGWIDEN_TEST_DSN)", worker.Kind())
	}
	db := pgtest.NewDB(t)
	admin, err := pgx.Connect(ctx, worker.AdminDSN())
	if err != nil {
		t.Fatalf("connect to the worker: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db.Name}.Sanitize()); err != nil {
		t.Fatalf("worker database: %v", err)
	}
	workerDSN, err := dsn.WithDatabase(worker.AdminDSN(), db.Name)
	if err != nil {
		t.Fatal(err)
	}
	wcfg, err := pgxpool.ParseConfig(workerDSN)
	if err != nil {
		t.Fatal(err)
	}
	wpool, err := pgxpool.NewWithConfig(ctx, wcfg)
	if err != nil {
		t.Fatalf("worker pool: %v", err)
	}
	defer wpool.Close()
	if _, err := wpool.Exec(ctx, `CREATE EXTENSION citus`); err != nil {
		t.Fatalf("citus on the worker: %v", err)
	}
	cfg, err := pgx.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(t, `CREATE EXTENSION citus`)
	if _, err := db.Pool.Exec(ctx, `SELECT citus_set_coordinator_host($1, $2)`, cfg.Host, int(cfg.Port)); err != nil {
		t.Fatalf("citus_set_coordinator_host: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `SELECT citus_add_node($1, $2)`, wcfg.ConnConfig.Host, int(wcfg.ConnConfig.Port)); err != nil {
		t.Fatalf("citus_add_node: %v", err)
	}
	db.ExecFile(t, citusSchema)
	return db
}

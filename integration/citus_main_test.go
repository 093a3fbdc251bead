//go:build citus

package integration

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// citusSettings preload Citus. Citus connects to its nodes, the
// coordinator itself included, with libpq inside the server, which would
// read the client certificate of the HOME the tests run with: the local
// nodes need no TLS.
var citusSettings = []string{"shared_preload_libraries=citus", "max_worker_processes=64", "citus.node_conninfo=sslmode=disable"}

// TestMain, built with -tags citus (make test-citus), starts the server
// with Citus preloaded and fails the run, with the fix, when Citus is not
// installed in that PostgreSQL: these tests never build it.
func TestMain(m *testing.M) {
	pgtest.MainWith(m, pgtest.Requirement{
		Settings: citusSettings,
		Check:    citusInstalled,
		Fix: `The Citus tests (make test-citus, go test -tags citus) need the citus extension installed in the
PostgreSQL the tests find (PGWIDEN_PG_BIN, pg_config or /usr/lib/postgresql/<version>/bin) and loaded with
shared_preload_libraries = 'citus' (set for a local cluster; a PGWIDEN_TEST_DSN server must have it).
make test-citus does not build or install Citus: install Citus 13 for that PostgreSQL first (docs/citus.md).`,
	})
}

// citusInstalled checks that the server preloads Citus and can create it.
func citusInstalled(ctx context.Context, admin *pgxpool.Pool) error {
	var preloaded, available bool
	err := admin.QueryRow(ctx, `SELECT current_setting('shared_preload_libraries') ~ 'citus',
		EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'citus')`).Scan(&preloaded, &available)
	switch {
	case err != nil:
		return err
	case !available:
		return errors.New("the citus extension is not installed (not in pg_available_extensions)")
	case !preloaded:
		return errors.New("citus is not in shared_preload_libraries")
	}
	return nil
}

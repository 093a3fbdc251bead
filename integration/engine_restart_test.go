package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/internal/pgserver"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// privateCluster is a cluster of the test's own, which it may restart: the
// shared one serves every other test of the package.
type privateCluster struct {
	dir, data string
	db        *pgtest.DB
}

// startPrivateCluster runs initdb and pg_ctl start as the server user and
// returns a database of the new cluster; the cleanup stops it.
func startPrivateCluster(t *testing.T, ctx context.Context) *privateCluster {
	t.Helper()
	if pgtest.BinDir() == "" {
		t.Fatal("the restart test needs local server binaries (initdb, pg_ctl): set PGWIDEN_PG_BIN")
	}
	c := &privateCluster{dir: pgtest.UserTempDir(t)}
	c.data = filepath.Join(c.dir, "data")
	if out, err := runServerProgram(ctx, c.dir, filepath.Join(pgtest.BinDir(), "initdb"), "-D", c.data, "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port, err := pgserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off -c max_connections=50", port, c.dir)
	if out, err := c.pgCtl(ctx, "-o", opts, "-l", filepath.Join(c.dir, "server.log"), "start"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := c.pgCtl(context.Background(), "-m", "immediate", "stop"); err != nil {
			t.Errorf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	c.db = &pgtest.DB{Name: "postgres", DSN: dsn, Pool: enginePool(t, dsn, "pgwiden-test", 4)}
	return c
}

// pgCtl runs pg_ctl as the server user. Its output goes to a file, not a
// pipe: the postmaster pg_ctl start leaves running would hold a pipe open,
// and reading it to the end would never return.
func (c *privateCluster) pgCtl(ctx context.Context, args ...string) ([]byte, error) {
	out, err := os.CreateTemp(c.dir, "pg_ctl-*.out")
	if err != nil {
		return nil, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	attr, err := pgtest.SysProcAttr()
	if err != nil {
		return nil, err
	}
	attr.Pdeathsig = 0 // the postmaster pg_ctl starts outlives this thread; the cleanup stops it
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.CommandContext(ctx, filepath.Join(pgtest.BinDir(), "pg_ctl"), append([]string{"-D", c.data, "-w", "-t", "60"}, args...)...)
		cmd.Dir, cmd.Env, cmd.SysProcAttr, cmd.Stdout, cmd.Stderr = c.dir, serverProgramEnv(), attr, out, out
		done <- cmd.Run()
	}()
	err = <-done
	text, _ := os.ReadFile(out.Name())
	return text, err
}

// restart is pg_ctl restart -m immediate: every session is cut, and the
// server recovers from its WAL as after a crash.
func (c *privateCluster) restart(t *testing.T, why string) {
	t.Helper()
	start := time.Now()
	if out, err := c.pgCtl(context.Background(), "-m", "immediate", "restart"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		t.Errorf("pg_ctl restart (%s): %v\n%s\n%s", why, err, out, log)
		return
	}
	t.Logf("server restarted %s in %v", why, time.Since(start).Round(time.Millisecond))
}

// slowIndex makes the cutover's index build on "Tags" last about a
// second, long enough to restart the server in the middle of it.
const slowIndex = `
CREATE FUNCTION slow_key(bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS 'SELECT $1 + (pg_sleep(0.001) IS NULL)::int';
CREATE INDEX tags_slow_idx ON "Tags" (slow_key("Id"));`

// TestEngineRestart restarts the server (pg_ctl restart -m immediate)
// during the backfill, in the middle of an index build and just before
// the swap, while a writer inserts: the same migrator reconnects each
// time, continues from its last checkpoint, rebuilds the index the crash
// left INVALID, swaps and finishes on its own. Every row the writer
// committed is there, and every row that existed before is unchanged.
func TestEngineRestart(t *testing.T) {
	ctx := pgtest.Context(t)
	c := startPrivateCluster(t, ctx)
	db := c.db
	db.ExecFile(t, saasSchema)
	db.Exec(t, slowIndex)
	p := buildPlan(t, ctx, db, saasTarget)
	before := keyChecksums(t, ctx, db, p)

	var once [3]sync.Once
	var restarts atomic.Int32
	hooks := migrator.Hooks{
		BeforeBatch: func(ctx context.Context, step string, batch int) error {
			if strings.HasPrefix(step, "backfill/copy/public.tag_assignments") && batch == 3 {
				once[0].Do(func() { c.restart(t, "during the backfill"); restarts.Add(1) })
			}
			return nil
		},
		BeforeStep: func(ctx context.Context, step string) error {
			if step == "cutover/index/public.tags_slow_idx_pgwiden_new" {
				once[1].Do(func() {
					go func() { // the build is running by then
						time.Sleep(400 * time.Millisecond)
						c.restart(t, "during an index build")
						restarts.Add(1)
					}()
				})
			}
			return nil
		},
		BeforeSwap: func(ctx context.Context) error {
			once[2].Do(func() { c.restart(t, "just before the swap"); restarts.Add(1) })
			return nil
		},
	}
	cfg := engineConfig()
	cfg.ReconnectTimeout = time.Minute
	pool := enginePool(t, db.DSN, "pgwiden", 2, migrator.ConfigureSession)
	st, err := state.Open(ctx, pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	m := migrator.New(pool, st, &throttle.Fixed{BatchSize: engineBatch}, log, cfg, hooks)

	w := &restartWriter{pool: db.Pool}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.loop(ctx, stop) }()
	for _, ph := range []func(context.Context, planner.Target) error{m.Prepare, m.Backfill, m.Cutover, m.Cleanup} {
		if err := ph(ctx, saasTarget); err != nil {
			t.Fatalf("migration across restarts: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	if n := restarts.Load(); n != 3 {
		t.Errorf("%d restarts happened, want 3", n)
	}
	assertWidened(t, ctx, db, p)
	assertNoPgwidenObjects(t, ctx, db)
	var valid bool
	if err := db.Pool.QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'tags_slow_idx'::regclass`).Scan(&valid); err != nil || !valid {
		t.Errorf("tags_slow_idx after the migration: valid=%v (%v)", valid, err)
	}
	w.check(t, ctx, db)
	// Without the writer's rows, every closure column holds what it held.
	db.Exec(t, `DELETE FROM tag_stats WHERE tag_id IN (SELECT "Id" FROM "Tags" WHERE name LIKE 'writer %');
		DELETE FROM "Tags" WHERE name LIKE 'writer %'`)
	assertUnchanged(t, "by the migration across restarts", before, keyChecksums(t, ctx, db, p))
}

// restartWriter inserts a tag and its stats row, in one statement, until
// stopped; it notes what committed. Errors while the server restarts are
// expected: it waits a moment and goes on, as an application would.
type restartWriter struct {
	pool      *pgxpool.Pool
	ids, uses []int64
	failed    int
}

func (w *restartWriter) loop(ctx context.Context, stop <-chan struct{}) {
	for i := int64(1); ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		var id int64
		err := w.pool.QueryRow(ctx, `WITH t AS (INSERT INTO "Tags" (tenant_id, name) VALUES (1, 'writer ' || $1::bigint) RETURNING "Id")
			INSERT INTO tag_stats (tag_id, uses) SELECT "Id", $1 FROM t RETURNING tag_id`, i).Scan(&id)
		if err != nil {
			w.failed++
			time.Sleep(50 * time.Millisecond)
			continue
		}
		w.ids, w.uses = append(w.ids, id), append(w.uses, i)
		time.Sleep(2 * time.Millisecond)
	}
}

// check finds every committed row with the values written.
func (w *restartWriter) check(t *testing.T, ctx context.Context, db *pgtest.DB) {
	t.Helper()
	if len(w.ids) == 0 {
		t.Fatal("the writer committed nothing")
	}
	var found int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::bigint[], $2::bigint[]) AS w(id, uses)
		JOIN "Tags" t ON t."Id" = w.id AND t.name = 'writer ' || w.uses JOIN tag_stats s ON s.tag_id = w.id AND s.uses = w.uses`, w.ids, w.uses).Scan(&found)
	if err != nil || found != len(w.ids) {
		t.Errorf("%d of the writer's %d committed rows are there (%v)", found, len(w.ids), err)
	}
	t.Logf("the writer committed %d rows; %d attempts failed during the restarts", len(w.ids), w.failed)
}

// TestEngineStandbyRefused: a backfill whose DSN leads to a read-only
// standby (as after a failover gone wrong) stops at once with a message
// naming the cause and the fix, instead of reconnecting until
// --reconnect-timeout.
func TestEngineStandbyRefused(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	newEngine(t, db, engineConfig(), noHooks).run(t, ctx, "prepare")
	sb := startStandby(ctx, t, db)
	cfg := engineConfig()
	cfg.ReconnectTimeout = time.Minute
	e := newEngine(t, &pgtest.DB{Name: db.Name, DSN: sb.dsn}, cfg, noHooks)
	start := time.Now()
	err := e.phase(ctx, "backfill")
	var se *migrator.StandbyError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "backfill: the server is a read-only standby (pg_is_in_recovery, SQLSTATE 25006): --dsn must lead to the primary") {
		t.Fatalf("backfill on a standby: %v, want a StandbyError", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the refusal took %v: it should not wait for --reconnect-timeout", took)
	}
}

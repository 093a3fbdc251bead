package migrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/throttle"
)

// Config is how a migrator behaves; DefaultConfig gives the defaults the CLI
// flags show. How fast it walks tables (batch sizes, rows per second) is
// its Governor's business: throttle.Config.
type Config struct {
	// LockTimeout bounds every wait for a table lock, so the application
	// is never queued behind pgwiden for longer.
	LockTimeout time.Duration
	// ScanLockTimeout bounds the lock waits of the statements that only
	// take SHARE UPDATE EXCLUSIVE (CREATE INDEX CONCURRENTLY, VALIDATE
	// CONSTRAINT). Queued, such a request holds up no reads or writes,
	// only other DDL and vacuum; but CREATE INDEX CONCURRENTLY waits for
	// every older transaction, and a 2s timeout would fail it whenever a
	// report runs longer.
	ScanLockTimeout time.Duration
	// StatementTimeout bounds catalog-only statements (not index builds or
	// validation, which scan tables).
	StatementTimeout time.Duration
	// Retry is the backoff for statements that hit lock_timeout.
	Retry pgerr.Policy
	// SwapAttempts is how often cutover tries the swap before giving up.
	SwapAttempts int
	// VacuumWait is how long each swap attempt first waits for an
	// autovacuum running on the tables to end (see run.awaitVacuum).
	VacuumWait time.Duration
	// PostponeFile: while it exists, cutover waits before the swap.
	PostponeFile string
	// DisableUserTriggers makes the backfill's session skip the tables'
	// triggers (session_replication_role = replica; superuser only).
	DisableUserTriggers bool
	// ProgressEvery is how often backfill progress is logged.
	ProgressEvery time.Duration
	// ReconnectTimeout is how long backfill and cutover try to reconnect
	// after losing the server (a restart, a failover) before giving up; 0
	// stops at once (reconnect.go).
	ReconnectTimeout time.Duration
	// VacuumEvery, when positive, runs a plain VACUUM of the table being
	// copied after every VacuumEvery backfill batches (run.vacuum).
	VacuumEvery int
	// VacuumFraction, when positive and VacuumEvery is not set, runs a
	// plain VACUUM of the table being copied each time the walk has
	// covered this fraction of its estimated rows, and at its end
	// (vacuumPace): the table grows by about this fraction instead of
	// doubling, for about 1/VacuumFraction passes over its indexes.
	VacuumFraction float64
	// MaintenanceWorkMem, in bytes, is the least maintenance_work_mem of
	// the sessions that build indexes and vacuum (run.onSession): a larger
	// server setting is kept. An index build sorts in it (a parallel build
	// shares it among its workers); a VACUUM keeps its dead row versions'
	// addresses in it, and each time it fills up scans every index once
	// more. 0 keeps the server's setting.
	MaintenanceWorkMem int64
	// MaintenanceWorkers is max_parallel_maintenance_workers for those
	// sessions: the parallel workers one index build may use, taken from
	// the server's max_parallel_workers. -1 keeps the server's setting.
	MaintenanceWorkers int
	// AsyncCommit commits every batch of a walk with synchronous_commit
	// off: the commit does not wait for its WAL to reach disk. The batch's
	// checkpoint commits in the same transaction, so a server crash can
	// lose the last batches only together with their checkpoints, and the
	// walk redoes them. Phase changes still commit synchronously, so a
	// finished walk is durable before the next phase starts.
	AsyncCommit bool
	// CompressWAL sets wal_compression on in the backfill's batches when
	// the server has it off and the role may set it (walCompressible).
	// The copy changes every page of the table once; the first change of
	// a page after a checkpoint writes the whole page to the WAL, and
	// compressed, these images shrink several times, at the price of
	// some CPU on the server.
	CompressWAL bool
	// Workers is how many slices of a table a walk (the backfill's copy,
	// a verification) runs at once, each on its own connection
	// (tableWalk). A walk that begins splits the table into this many
	// slices, each with its own checkpoint; a walk that resumes keeps the
	// slices it began with and walks those left with up to Workers
	// goroutines. The workers share the Governor, which paces their sum.
	// 0 is 1.
	Workers int
	// HotPasses copies each backfill batch in this many interleaved
	// passes, each its own transaction, by the rows' slots on their pages
	// (planner.Batch.NextPass): the first pass moves its rows to other
	// pages, and once it has committed the next pass prunes their dead
	// versions and updates its rows in place (HOT): no new index entry,
	// only the changed bytes in the WAL. 1 copies each batch in one
	// transaction, as a single UPDATE would. The checkpoint commits with
	// the last pass; a batch interrupted between passes is redone, and the
	// rows already copied are skipped.
	HotPasses int
}

// maxHotPasses bounds Config.HotPasses: past a few passes a page has no
// rows left to gain, and each pass reads the batch's rows again.
const maxHotPasses = 32

// maxWorkers bounds Config.Workers: each worker holds a connection.
const maxWorkers = 64

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		LockTimeout:      2 * time.Second,
		ScanLockTimeout:  5 * time.Minute,
		StatementTimeout: time.Minute,
		Retry:            pgerr.DefaultPolicy(),
		SwapAttempts:     30,
		VacuumWait:       time.Minute,
		ProgressEvery:    10 * time.Second,
		ReconnectTimeout: 3 * time.Minute,
		AsyncCommit:      true,
		CompressWAL:      true,
		VacuumFraction:   0.1,
		// 256MB: four times PostgreSQL's default, small beside the
		// memory of a server whose tables need pgwiden.
		MaintenanceWorkMem: 256 << 20,
		MaintenanceWorkers: -1,
		Workers:            1,
		// 4: three rows in four updated in place; more passes save
		// little more WAL and read the batch again each time
		// (docs/performance.md).
		HotPasses: 4,
	}
}

// Validate reports a configuration an operator must fix.
func (c Config) Validate() error {
	switch {
	case c.LockTimeout <= 0:
		return errors.New("--lock-timeout must be positive: without it a DDL statement could queue the application behind it")
	case c.ScanLockTimeout <= 0:
		return errors.New("--scan-lock-timeout must be positive")
	case c.SwapAttempts <= 0:
		return errors.New("--max-attempts must be positive")
	case c.ReconnectTimeout < 0:
		return errors.New("--reconnect-timeout must be 0 (stop at once) or positive")
	case c.VacuumEvery < 0:
		return errors.New("--vacuum-every must be 0 (never) or a number of batches")
	case c.VacuumFraction < 0 || c.VacuumFraction > 1:
		return errors.New("--vacuum-fraction must be between 0 (never) and 1 (once, at the end of the walk), e.g. 0.1")
	case c.MaintenanceWorkMem != 0 && c.MaintenanceWorkMem < 1<<20:
		return errors.New("--maintenance-work-mem must be empty (the server's setting) or at least 1MB, PostgreSQL's minimum")
	case c.MaintenanceWorkers < -1 || c.MaintenanceWorkers > 1024:
		return errors.New("--maintenance-workers must be -1 (the server's setting) or between 0 and 1024")
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("--workers must be between 1 and %d (each worker holds a connection)", maxWorkers)
	case c.HotPasses < 1 || c.HotPasses > maxHotPasses:
		return fmt.Errorf("--hot-passes must be between 1 (one transaction a batch) and %d, e.g. 4", maxHotPasses)
	}
	return nil
}

// Hooks let tests stop a phase at chosen points, the way a kill or a
// lost connection would. Any error a hook returns aborts the phase there.
type Hooks struct {
	BeforeStep  func(ctx context.Context, stepID string) error
	BeforeBatch func(ctx context.Context, stepID string, batch int) error
	BeforeSwap  func(ctx context.Context) error
}

// Governor paces the backfill: it is told how each batch went and says how
// many rows the next one takes, waiting under ctx as needed.
type Governor interface {
	Next(ctx context.Context, last throttle.BatchOutcome) (throttle.Decision, error)
}

var _ Governor = (*throttle.Fixed)(nil)

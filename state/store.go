package state

import (
	"context"
	_ "embed" // schema.sql
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// Version is the state schema version this binary reads and writes.
// Version 2 added the slices of a walk (--workers: tasks.slices and
// pgwiden.task_slices) to version 1's tables.
const Version = 2

//go:embed schema.sql
var schemaSQL string

// SchemaLockKey is the transaction advisory lock taken around DDL in schema
// pgwiden ("pgwiden" in ASCII). audit.Record takes the same key, so the
// state tables and the audit history are never created at the same time:
// two concurrent CREATE ... IF NOT EXISTS can still fail on each other's
// catalog rows.
const SchemaLockKey int64 = 0x7067776964656e

// Execer runs one statement. pgx.Tx, *pgxpool.Pool, *pgxpool.Conn and
// *pgx.Conn all are ones, so callers choose the transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// querier is what the version check reads through: the pool or Ensure's
// transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrNotFound is wrapped by errors about a job, step or task that does not
// exist.
var ErrNotFound = errors.New("not found")

// VersionError is a state schema written by a newer pgwiden.
type VersionError struct {
	Have, Know int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("pgwiden state schema is version %d, this binary knows %d: upgrade pgwiden", e.Have, e.Know)
}

// Store reads and writes pgwiden's state in one database.
type Store struct {
	pool    *pgxpool.Pool
	log     zerolog.Logger
	version int
}

// Open reads the state schema's version and changes nothing. A database
// without the schema gives a Store whose Exists is false; one with a newer
// schema gives a *VersionError.
func Open(ctx context.Context, pool *pgxpool.Pool, log zerolog.Logger) (*Store, error) {
	s := &Store{pool: pool, log: log.With().Str("component", "state").Logger()}
	v, err := readVersion(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("state: open: %w", err)
	}
	if v > Version {
		return nil, &VersionError{Have: v, Know: Version}
	}
	s.version = v
	return s, nil
}

// Exists reports whether the state schema existed when Open read it, or
// has been created since by Ensure.
func (s *Store) Exists() bool { return s.version > 0 }

// readVersion returns the schema's version, 0 when it does not exist. It
// looks in pg_class with a query rather than with to_regclass: a query
// reads the catalog under a fresh snapshot, and locking pg_class makes the
// backend take in the DDL other sessions committed while Ensure waited.
func readVersion(ctx context.Context, q querier) (int, error) {
	var exists bool
	err := q.QueryRow(ctx, `/* pgwiden state */ SELECT EXISTS (SELECT FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'pgwiden' AND c.relname = 'schema_version')`).Scan(&exists)
	if err != nil || !exists {
		return 0, err
	}
	var v int
	err = q.QueryRow(ctx, "/* pgwiden state */ SELECT coalesce(max(version), 0) FROM pgwiden.schema_version").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read pgwiden.schema_version: %w", err)
	}
	return v, nil
}

// Ensure creates the state schema, or upgrades an older one, in one
// transaction. When the schema is current it only reads, so a role
// without CREATE on the database can run later phases.
func (s *Store) Ensure(ctx context.Context) error {
	v, err := readVersion(ctx, s.pool)
	from := v
	if err == nil && v < Version {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var ierr error
			from, ierr = s.upgrade(ctx, tx)
			return ierr
		})
		v = max(from, Version)
	}
	if err != nil {
		return fmt.Errorf("state: ensure schema pgwiden: %w", err)
	}
	if from < Version {
		s.log.Info().Int("from", from).Int("version", Version).Msg("state schema created")
	}
	if v > Version {
		return &VersionError{Have: v, Know: Version}
	}
	s.version = v
	return nil
}

// upgrade brings the schema to Version inside tx and returns the version
// it found under the lock: a concurrent Ensure may have done the work while
// this one waited, and a newer pgwiden may have upgraded it further.
func (s *Store) upgrade(ctx context.Context, tx pgx.Tx) (int, error) {
	// lock_timeout bounds every lock wait below, the advisory lock's too.
	// SET LOCAL, not SET: it ends with the transaction and never leaks to
	// the next user of this pooled connection.
	if _, err := tx.Exec(ctx, "/* pgwiden state */ SET LOCAL lock_timeout = '5s'"); err != nil {
		return 0, fmt.Errorf("set lock_timeout: %w", err)
	}
	if _, err := tx.Exec(ctx, "/* pgwiden state */ SELECT pg_advisory_xact_lock($1)", SchemaLockKey); err != nil {
		return 0, fmt.Errorf("lock schema pgwiden: %w", err)
	}
	v, err := readVersion(ctx, tx)
	if err != nil || v >= Version {
		return v, err
	}
	// Create the schema only when missing: CREATE SCHEMA IF NOT EXISTS
	// checks the CREATE privilege on the database even when there is
	// nothing to create, and the audit may have made it already.
	var haveSchema bool
	if err := tx.QueryRow(ctx, "/* pgwiden state */ SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'pgwiden')").Scan(&haveSchema); err != nil {
		return 0, fmt.Errorf("look for schema pgwiden: %w", err)
	}
	if !haveSchema {
		if _, err := tx.Exec(ctx, "/* pgwiden state */ CREATE SCHEMA pgwiden"); err != nil {
			return 0, fmt.Errorf("create schema pgwiden: %w", err)
		}
	}
	// schema.sql creates each version's objects only where they are
	// missing, so the one file makes a new schema or brings any older
	// version to this one: a database a pgwiden of version 1 prepared (a
	// migration under way across an upgrade) gains the slices' table. A
	// version whose change cannot be written that way gets a file of its
	// own, run here when v is below it.
	if _, err := tx.Exec(ctx, "/* pgwiden state */ "+schemaSQL); err != nil {
		return 0, fmt.Errorf("create state schema version %d: %w", Version, err)
	}
	if _, err := tx.Exec(ctx, "/* pgwiden state */ DELETE FROM pgwiden.schema_version"); err != nil {
		return 0, fmt.Errorf("record state schema version: %w", err)
	}
	if _, err := tx.Exec(ctx, "/* pgwiden state */ INSERT INTO pgwiden.schema_version (version) VALUES ($1)", Version); err != nil {
		return 0, fmt.Errorf("record state schema version: %w", err)
	}
	return v, nil
}

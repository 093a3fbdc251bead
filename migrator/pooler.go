package migrator

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolerError is a DSN that goes through a connection pooler in
// transaction mode: each transaction may run on another server session, so
// the session advisory lock that keeps a second pgwiden out, the session
// settings and pgx's prepared statements would not stay with pgwiden.
type PoolerError struct {
	// First and Again are the server sessions one client connection ran
	// on, Other the one a second connection ran on meanwhile.
	First, Again, Other uint32
}

func (e *PoolerError) Error() string {
	return fmt.Sprintf("--dsn goes through a connection pooler in transaction mode (PgBouncer pool_mode = transaction or alike): one connection ran on server sessions %d and then %d; pgwiden needs one server session per connection for its migration lock and settings: use a DSN straight to PostgreSQL, or to a session-mode pool",
		e.First, e.Again)
}

// CheckPooler refuses a pool whose connections do not each keep one server
// session. It holds one connection A, reads its server pid, makes a second
// connection B open a transaction (which pins a server session for B
// until it ends), and reads A's pid again: directly or through a
// session-mode pooler A's pid stays and B's differs. In transaction mode
// A's server session went back to the pooler's pool after the first
// query, B (PgBouncer hands out the last released session first) or
// another client may take it, and A runs on another. It uses the simple
// protocol, which a transaction-mode pooler passes, to get that far.
func CheckPooler(ctx context.Context, pool *pgxpool.Pool) error {
	a, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer a.Release()
	b, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer b.Release()
	pid := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) (uint32, error) {
		var p uint32
		err := q.QueryRow(ctx, "/* pgwiden pooler check */ SELECT pg_backend_pid()", pgx.QueryExecModeSimpleProtocol).Scan(&p)
		return p, err
	}
	first, err := pid(a)
	if err != nil {
		return fmt.Errorf("check the connection for a pooler: %w", err)
	}
	tx, err := b.Begin(ctx)
	if err != nil {
		return fmt.Errorf("check the connection for a pooler: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only
	other, err := pid(tx)
	if err != nil {
		return fmt.Errorf("check the connection for a pooler: %w", err)
	}
	again, err := pid(a)
	if err != nil {
		return fmt.Errorf("check the connection for a pooler: %w", err)
	}
	if first != again || other == first {
		return &PoolerError{First: first, Again: again, Other: other}
	}
	return nil
}

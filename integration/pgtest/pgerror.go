package pgtest

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/internal/pgerr"
)

// describeExecErr renders a server error the way psql does, with the
// statement's line, a caret under the position, DETAIL and HINT (the same
// rendering as pgwiden's --log-level debug): a test fixture of fifty
// statements is otherwise hard to debug.
func describeExecErr(sql string, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	return &execError{text: pgerr.Caret(&pgerr.StepError{StepID: "exec", SQL: sql, Err: pgErr}), err: pgErr}
}

// execError is a server error rendered for a test log; it still unwraps to
// the *pgconn.PgError.
type execError struct {
	text string
	err  error
}

func (e *execError) Error() string { return e.text }
func (e *execError) Unwrap() error { return e.err }

package pgerr

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestConnectionLost(t *testing.T) {
	cases := map[error]bool{
		nil:                                          false,
		&pgconn.PgError{Code: AdminShutdown}:         true,
		&pgconn.PgError{Code: CrashShutdown}:         true,
		&pgconn.PgError{Code: CannotConnect}:         true,
		&pgconn.PgError{Code: "08006"}:               true,
		&pgconn.PgError{Code: LockNotAvailable}:      false,
		&pgconn.PgError{Code: ReadOnlyTransaction}:   false,
		fmt.Errorf("batch: %w", io.ErrUnexpectedEOF): true,
		fmt.Errorf("dial: %w", syscall.ECONNREFUSED): true,
		fmt.Errorf("step: %w", pgconn.ErrConnClosed): true,
		errors.New("something else"):                 false,
	}
	for err, want := range cases {
		if got := ConnectionLost(err); got != want {
			t.Errorf("ConnectionLost(%v) = %v, want %v", err, got, want)
		}
	}
}

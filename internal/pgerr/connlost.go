package pgerr

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATEs of a server going away or not back yet.
const (
	AdminShutdown = "57P01" // pg_ctl stop -m fast, pg_terminate_backend
	CrashShutdown = "57P02" // another backend crashed: every session ends
	CannotConnect = "57P03" // the database system is starting up / shutting down
	// ReadOnlyTransaction is a write refused by a hot standby: after a
	// failover the DSN may land on one.
	ReadOnlyTransaction = "25006"
)

// ConnectionLost reports whether err means the connection to the server
// broke or could not be made: a restart, a crash, a failover, a network
// cut. The phase that saw it can reconnect and resume from its last
// committed checkpoint; whether the statement in flight committed is left
// to the steps' probes, as after a kill.
func ConnectionLost(err error) bool {
	if err == nil {
		return false
	}
	code := Code(err)
	if strings.HasPrefix(code, "08") || code == AdminShutdown || code == CrashShutdown || code == CannotConnect {
		return true
	}
	if code != "" {
		return false // any other server error is an answer, not a lost line
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

package pgerr

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// The SQLSTATEs after which the same statement may simply be run again:
// the server rolled the statement (and its transaction) back, and nothing
// about the statement itself is wrong.
const (
	// LockNotAvailable is what lock_timeout raises: pgwiden's DDL gave up
	// waiting for a table lock rather than queue the application behind it.
	LockNotAvailable = "55P03"
	// DeadlockDetected: the server chose this transaction as the victim.
	DeadlockDetected = "40P01"
	// SerializationFailure: a concurrent update won under REPEATABLE READ
	// or SERIALIZABLE.
	SerializationFailure = "40001"
)

// Retryable reports whether err may be retried by running the same
// operation again.
//
// It is deliberately a short list. query_canceled (57014) is not on it:
// that is statement_timeout or an operator's pg_cancel_backend, and both
// mean "stop", not "try again". Neither is a lost connection in general:
// a statement whose connection broke may or may not have committed, so only
// pgconn.SafeToRetry errors (the server surely never saw the statement)
// count here. Anything else is left to the phase being re-run, whose steps
// are re-checked through their Probe.
func Retryable(err error) bool {
	switch Code(err) {
	case LockNotAvailable, DeadlockDetected, SerializationFailure:
		return true
	}
	return pgconn.SafeToRetry(err)
}

// Code returns the SQLSTATE of the server error inside err, or "".
func Code(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

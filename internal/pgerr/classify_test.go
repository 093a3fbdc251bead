package pgerr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// safeErr is an error pgconn says was never sent to the server.
type safeErr struct{}

func (safeErr) Error() string     { return "dial: connection refused" }
func (safeErr) SafeToRetry() bool { return true }

func TestRetryable(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "m"} }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"lock_timeout", pg(LockNotAvailable), true},
		{"deadlock wrapped", fmt.Errorf("swap public.tags: %w", pg(DeadlockDetected)), true},
		{"serialization", &StepError{StepID: "s", Err: pg(SerializationFailure)}, true},
		{"statement_timeout", pg("57014"), false},
		{"syntax", pg("42601"), false},
		{"plain", errors.New("lock not available"), false},
		{"never sent", fmt.Errorf("begin: %w", safeErr{}), true},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("%s: Retryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCode(t *testing.T) {
	if got := Code(fmt.Errorf("x: %w", &pgconn.PgError{Code: "55P03"})); got != "55P03" {
		t.Errorf("Code = %q, want 55P03", got)
	}
	if got := Code(errors.New("x")); got != "" {
		t.Errorf("Code of a non-server error = %q, want empty", got)
	}
}

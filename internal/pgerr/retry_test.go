package pgerr

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// fast retries within milliseconds, so the tests do not sleep.
var fast = Policy{Initial: time.Millisecond, Max: 2 * time.Millisecond, MaxElapsed: 5 * time.Second}

var lockErr = &pgconn.PgError{Severity: "ERROR", Code: LockNotAvailable, Message: "canceling statement due to lock timeout"}

func TestDoPermanentNotRetried(t *testing.T) {
	syntax := &pgconn.PgError{Severity: "ERROR", Code: "42601", Message: "syntax error"}
	calls := 0
	err := Do(context.Background(), fast, zerolog.Nop(), "swap", func(context.Context, int) error {
		calls++
		return &StepError{StepID: "s", Err: syntax}
	})
	if calls != 1 {
		t.Errorf("op ran %d times, want 1", calls)
	}
	var se *StepError
	if !errors.As(err, &se) || !errors.Is(err, syntax) {
		t.Errorf("err = %v, want the op's StepError unchanged", err)
	}
}

func TestDoRetriesThenSucceeds(t *testing.T) {
	var logs bytes.Buffer
	var seen []int
	err := Do(context.Background(), fast, zerolog.New(&logs), "swap public.tags", func(_ context.Context, attempt int) error {
		seen = append(seen, attempt)
		if attempt < 3 {
			return lockErr
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Errorf("attempts = %v, want [1 2 3]", seen)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want one per retry (2):\n%s", len(lines), logs.String())
	}
	for _, want := range []string{`"attempt":1`, `"sqlstate":"55P03"`, `"what":"swap public.tags"`, `"wait":`, `"message":"retry"`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %s lacks %s", lines[0], want)
		}
	}
}

func TestDoMaxAttempts(t *testing.T) {
	p := fast
	p.MaxAttempts = 3
	calls := 0
	err := Do(context.Background(), p, zerolog.Nop(), "swap", func(context.Context, int) error {
		calls++
		return lockErr
	})
	if calls != 3 {
		t.Errorf("op ran %d times, want 3", calls)
	}
	var gu *GaveUpError
	if !errors.As(err, &gu) || gu.Attempts != 3 || Code(err) != LockNotAvailable {
		t.Fatalf("err = %v, want a GaveUpError after 3 attempts unwrapping to 55P03", err)
	}
	if !strings.HasPrefix(err.Error(), "swap: gave up after 3 attempts over ") || !strings.HasSuffix(err.Error(), lockErr.Error()) {
		t.Errorf("message = %q", err.Error())
	}
}

func TestDoMaxElapsed(t *testing.T) {
	p := Policy{Initial: time.Millisecond, Max: time.Millisecond, MaxElapsed: 30 * time.Millisecond}
	start := time.Now()
	err := Do(context.Background(), p, zerolog.Nop(), "swap", func(context.Context, int) error { return lockErr })
	var gu *GaveUpError
	if !errors.As(err, &gu) || gu.Attempts < 2 {
		t.Fatalf("err = %v, want a GaveUpError after several attempts", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Do took %s for a 30ms budget", d)
	}
}

func TestDoContextCancelStopsWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := Policy{Initial: time.Hour, Max: time.Hour, MaxElapsed: 2 * time.Hour}
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	calls := 0
	err := Do(ctx, p, zerolog.Nop(), "swap", func(context.Context, int) error { calls++; return lockErr })
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Do took %s after cancel", d)
	}
	if calls != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, lockErr) {
		t.Errorf("calls %d, err = %v; want 1 call and an error that is both Canceled and the last error", calls, err)
	}
}

func TestDoContextCancelDuringOp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	err := Do(ctx, fast, zerolog.Nop(), "swap", func(context.Context, int) error {
		calls++
		cancel()
		return lockErr // retryable, but the context has ended
	})
	if calls != 1 || !errors.Is(err, context.Canceled) || Code(err) != LockNotAvailable {
		t.Errorf("calls %d, err = %v", calls, err)
	}
	if err := Do(ctx, fast, zerolog.Nop(), "swap", func(context.Context, int) error {
		t.Error("op ran under a cancelled context")
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("Do on a cancelled context = %v", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Errorf("default policy: %v", err)
	}
	if err := (Policy{Initial: time.Second, Max: time.Second}).Validate(); err == nil {
		t.Error("a policy without any limit was accepted")
	}
}

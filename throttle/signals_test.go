package throttle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// fakeQuerier answers each QueryRow with the next of rows and records the
// SQL and arguments. The SQL itself is run by the integration tests.
type fakeQuerier struct {
	rows []fakeRow
	sql  []string
	args [][]any
}

type fakeRow struct {
	vals []any
	err  error
}

func (q *fakeQuerier) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	q.sql, q.args = append(q.sql, sql), append(q.args, args)
	r := q.rows[0]
	q.rows = q.rows[1:]
	return r
}

func (r fakeRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if len(dest) != len(r.vals) {
		return fmt.Errorf("scan %d values into %d", len(r.vals), len(dest))
	}
	for i, v := range r.vals {
		reflect.ValueOf(dest[i]).Elem().Set(reflect.ValueOf(v))
	}
	return nil
}

func row(vals ...any) fakeRow { return fakeRow{vals: vals} }

func read(t *testing.T, s Signal) Reading {
	t.Helper()
	r, err := s.Read(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", s.Name(), err)
	}
	if r.Signal != s.Name() {
		t.Fatalf("reading of %s says signal %q", s.Name(), r.Signal)
	}
	return r
}

func wantHold(t *testing.T, r Reading, reason string) {
	t.Helper()
	if !r.Hold || r.Reason != reason {
		t.Fatalf("reading %+v, want hold %q", r, reason)
	}
}

func wantRun(t *testing.T, r Reading) {
	t.Helper()
	if r.Hold || r.Reason != "" {
		t.Fatalf("reading %+v, want no hold", r)
	}
}

func TestReplicationLagReading(t *testing.T) {
	q := &fakeQuerier{rows: []fakeRow{row(12.4, "replica-1", 0), row(1.0, "replica-1", 0), row(0.0, "", 2)}}
	s := ReplicationLag(q, 5*time.Second)
	wantHold(t, read(t, s), "replication lag 12.4s > 5s on replica-1")
	wantRun(t, read(t, s))
	if _, err := s.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "pg_read_all_stats") {
		t.Fatalf("hidden walsenders: %v", err)
	}
}

func TestStandbyLagReading(t *testing.T) {
	q := &fakeQuerier{rows: []fakeRow{row(true, false, 12.4), row(true, true, 0.0), row(true, false, 0.0), row(false, false, 0.0)}}
	s := StandbyLag("replica-1", q, 5*time.Second)
	wantHold(t, read(t, s), "replication lag 12.4s > 5s on replica-1")
	wantHold(t, read(t, s), "WAL replay paused on replica-1")
	wantRun(t, read(t, s))
	if _, err := s.Read(context.Background()); !errors.Is(err, ErrNotStandby) {
		t.Fatalf("primary: %v", err)
	}
}

func TestXminAgeReading(t *testing.T) {
	q := &fakeQuerier{rows: []fakeRow{row(300.2, "pid 123", 0), row(3.0, "pid 123", 0), row(0.0, "", 1)}}
	s := XminAge(q, time.Minute)
	wantHold(t, read(t, s), "transaction open 5m (pid 123) > 1m")
	wantRun(t, read(t, s))
	if _, err := s.Read(context.Background()); err == nil {
		t.Fatal("hidden transactions: no error")
	}
	if q.args[0][0] != "pgwiden" {
		t.Fatalf("args %v: pgwiden's application_name must be left out", q.args[0])
	}
}

func TestLockWaitersReading(t *testing.T) {
	tables := []string{"public.tags", "public.taggings"}
	q := &fakeQuerier{rows: []fakeRow{row(2), row(1), row(0)}}
	s := LockWaiters(q, tables)
	wantHold(t, read(t, s), "2 sessions wait for locks on public.tags, public.taggings")
	wantHold(t, read(t, s), "1 session waits for locks on public.tags, public.taggings")
	wantRun(t, read(t, s))
	if !reflect.DeepEqual(q.args[0], []any{tables, "pgwiden"}) {
		t.Fatalf("args %v", q.args[0])
	}
}

func TestActiveBackendsReading(t *testing.T) {
	q := &fakeQuerier{rows: []fakeRow{row(42, 0), row(40, 0), row(3, 5)}}
	s := ActiveBackends(q, 40)
	wantHold(t, read(t, s), "42 active sessions > 40")
	wantRun(t, read(t, s))
	if _, err := s.Read(context.Background()); err == nil {
		t.Fatal("hidden sessions: no error")
	}
}

// TestWALRateReading: the first read never holds; the next is the bytes
// between them over the clock's time between them.
func TestWALRateReading(t *testing.T) {
	const mb = 1024 * 1024
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := &fakeQuerier{rows: []fakeRow{row(1e9), row(1e9 + 200*mb), row(1e9 + 210*mb), row(1e9 + 210*mb)}}
	s := WALRate(q, 50*mb, clk)
	if r := read(t, s); r.Hold || r.Value != 0 {
		t.Fatalf("first read %+v", r)
	}
	clk.Advance(2 * time.Second)
	wantHold(t, read(t, s), "WAL rate 100 MB/s > 50 MB/s")
	clk.Advance(time.Second)
	r := read(t, s)
	wantRun(t, r)
	if r.Value != 10*mb {
		t.Fatalf("rate %v, want 10 MB/s", r.Value)
	}
	if r := read(t, s); r.Value != 10*mb { // no time passed: the last rate stands
		t.Fatalf("rate %v after a zero interval", r.Value)
	}
}

func TestDeadTuplesReading(t *testing.T) {
	q := &fakeQuerier{rows: []fakeRow{
		row("public.tags", 0.342, "autovacuum running on public.tags"),
		row("public.tags", 0.25, ""),
		row("public.tags", 0.1, "vacuum running on public.tags"),
		{err: pgx.ErrNoRows},
	}}
	s := DeadTuples(q, []string{"public.tags"}, 0.2)
	wantHold(t, read(t, s), "dead tuples 34.2% > 20.0% on public.tags (autovacuum running on public.tags)")
	wantHold(t, read(t, s), "dead tuples 25.0% > 20.0% on public.tags")
	wantRun(t, read(t, s))
	wantRun(t, read(t, s))
}

func TestCustomQueryReading(t *testing.T) {
	yes, no := true, false
	q := &fakeQuerier{rows: []fakeRow{row(&yes), row(&no), row((*bool)(nil)), {err: errors.New(`syntax error at or near "SELEC"`)}}}
	s := CustomQuery(q, "SELECT true")
	wantHold(t, read(t, s), "throttle query returned true")
	wantRun(t, read(t, s))
	wantRun(t, read(t, s)) // NULL is false
	if _, err := s.Read(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "throttle query: ") {
		t.Fatalf("failing query: %v", err)
	}
	if q.sql[0] != "SELECT true" {
		t.Fatalf("ran %q", q.sql[0])
	}
}

func TestPauseFileReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pause")
	s := PauseFile(path)
	wantRun(t, read(t, s))
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wantHold(t, read(t, s), "pause file "+path+" exists")
}

func TestFuncReading(t *testing.T) {
	s := Func("state-pause", func(context.Context) (Reading, error) {
		return Reading{Hold: true, Reason: "paused by operator (pgwiden pause)"}, nil
	})
	wantHold(t, read(t, s), "paused by operator (pgwiden pause)")
}

// TestSignalSQLIsTagged: every statement names pgwiden for a DBA reading
// pg_stat_activity.
func TestSignalSQLIsTagged(t *testing.T) {
	for _, sql := range []string{replicationLagSQL, standbyLagSQL, xminAgeSQL, lockWaitersSQL, activeSQL, walLSNSQL, deadTuplesSQL} {
		if !strings.HasPrefix(sql, "/* pgwiden throttle ") {
			t.Errorf("untagged SQL: %.60s", sql)
		}
	}
}

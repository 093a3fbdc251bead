package planner

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"SELECT 1", []string{"SELECT 1"}},
		{"SET LOCAL a = on;\nCREATE TRIGGER t;\n", []string{"SET LOCAL a = on", "CREATE TRIGGER t"}},
		{"SELECT ';' ; SELECT \"a;b\"", []string{"SELECT ';'", `SELECT "a;b"`}},
		{"SELECT E'it\\';s'; SELECT 2", []string{"SELECT E'it\\';s'", "SELECT 2"}},
		{"CREATE FUNCTION f() AS $pgwiden$\nBEGIN\n  x := 1;\nEND\n$pgwiden$;\nDO $x$ BEGIN NULL; END $x$",
			[]string{"CREATE FUNCTION f() AS $pgwiden$\nBEGIN\n  x := 1;\nEND\n$pgwiden$", "DO $x$ BEGIN NULL; END $x$"}},
		{"SELECT $1; SELECT $$a;b$$", []string{"SELECT $1", "SELECT $$a;b$$"}},
		{"/* a; b */ SELECT 1; -- c; d\nSELECT 2", []string{"/* a; b */ SELECT 1", "-- c; d\nSELECT 2"}},
	} {
		got, err := SplitStatements(tc.sql)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitStatements(%q) = %q, %v; want %q", tc.sql, got, err, tc.want)
		}
	}
	if _, err := SplitStatements("SELECT $pgwiden$ never closed"); err == nil {
		t.Error("an unterminated dollar quote was accepted")
	}
}

package pgtest

import (
	"strings"
	"testing"
)

func TestCaret(t *testing.T) {
	sql := "SELECT 1;\nSELECT nosuch FROM t"
	got := caret(sql, strings.Index(sql, "nosuch")+1)
	want := "\nLINE 2: SELECT nosuch FROM t\n               ^"
	if got != want {
		t.Errorf("caret = %q, want %q", got, want)
	}
}

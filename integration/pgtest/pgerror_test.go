package pgtest

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestDescribeExecErr: a failing fixture statement is shown with its line
// and a caret under the position the server reported.
func TestDescribeExecErr(t *testing.T) {
	sql := "SELECT 1;\nSELECT nosuch FROM t"
	err := describeExecErr(sql, &pgconn.PgError{Severity: "ERROR", Code: "42703", Message: `column "nosuch" does not exist`,
		Position: int32(strings.Index(sql, "nosuch") + 1)})
	want := "\nLINE 2: SELECT nosuch FROM t\n               ^"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "42703") {
		t.Errorf("describeExecErr = %q, want it to contain %q", err.Error(), want)
	}
}

package catalog

import (
	"strings"
	"testing"
)

// TestCheckServerVersion: servers older than 12 are refused with the
// version they run, from server_version_num; 12 and later pass.
func TestCheckServerVersion(t *testing.T) {
	for _, tc := range []struct {
		num  int
		want string // "" for accepted
	}{
		{90624, "PostgreSQL 9.6.24 (server_version_num 90624) is not supported: pgwiden needs PostgreSQL 12 or later"},
		{110022, "PostgreSQL 11.22 (server_version_num 110022) is not supported"},
		{119999, "PostgreSQL 11.9999"},
		{120000, ""},
		{120022, ""},
		{150014, ""},
		{180004, ""},
	} {
		err := CheckServerVersion(tc.num)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckServerVersion(%d) = %v, want nil", tc.num, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckServerVersion(%d) = %v, want an error containing %q", tc.num, err, tc.want)
		}
	}
}

func TestRowTriggersOnPartitioned(t *testing.T) {
	for num, want := range map[int]bool{120022: false, 129999: false, 130000: true, 180004: true} {
		if got := (&Snapshot{ServerVersion: num}).RowTriggersOnPartitioned(); got != want {
			t.Errorf("server %d: RowTriggersOnPartitioned = %v, want %v", num, got, want)
		}
	}
}

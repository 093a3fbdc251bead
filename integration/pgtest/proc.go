package pgtest

import (
	"os"
	"syscall"
	"testing"

	"github.com/pgwiden/pgwiden/internal/pgserver"
)

// SysProcAttr returns the process attributes to run a PostgreSQL server
// program (postgres, pg_ctl, initdb) with in a test: as the unprivileged
// user when the tests run as root, and killed if the test binary dies
// (Linux; the kernel signals when the starting OS thread ends, see
// pgserver.SysProcAttr). Client programs such as pg_dump need none of this.
func SysProcAttr() (*syscall.SysProcAttr, error) { return pgserver.SysProcAttr() }

// UserTempDir returns a new directory owned by the user the server runs as
// (see SysProcAttr), removed at the test's cleanup: a standby's data
// directory must belong to the user that runs its postgres, and t.TempDir
// is owned by root and closed to others when the tests run as root.
func UserTempDir(t testing.TB) string {
	t.Helper()
	dir, err := pgserver.MakeUserDir("pgwiden-user-")
	if err != nil {
		t.Fatalf("user temp dir: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binaryPkg is the command the end-to-end tests run.
const binaryPkg = "github.com/pgwiden/pgwiden/cmd/pgwiden"

// build is the one pgwiden build of this test binary. It is lazy: packages
// that never run the binary, and a tree where cmd/pgwiden does not compile
// yet, pay nothing.
var build struct {
	once sync.Once
	dir  string // removed by Main when the tests end
	path string
	err  error
}

// Binary builds ./cmd/pgwiden once per test binary and returns the path of
// the executable. A build failure fails every test that asks, with the
// compiler's output.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "pgwiden-bin-")
		if build.err != nil {
			build.err = fmt.Errorf("make build dir: %w", build.err)
			return
		}
		build.path = filepath.Join(build.dir, "pgwiden")
		// go test puts its own GOROOT/bin first in PATH, so this is the
		// toolchain that built the test.
		cmd := exec.Command("go", "build", "-o", build.path, binaryPkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build %s: %w\n%s", binaryPkg, err, out)
			_ = os.RemoveAll(build.dir)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// removeBuildDir deletes the built binary when the tests end. The empty
// Do waits for a build in flight (the signal handler may call this during
// one) and orders the read of build.dir after its write; Binary is not
// called again after the tests end, so marking the Once done is harmless.
func removeBuildDir() {
	build.once.Do(func() {})
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
}

// Tool returns the path of a PostgreSQL program such as pg_dump, pgbench
// or pg_basebackup: from BinDir, so that it matches the server's version,
// or from PATH when the server has no local binaries. When it is not
// there it returns a path that fails with "not found" when run: never a
// program of another version found elsewhere in PATH.
func Tool(name string) string {
	srv := mustCurrent()
	path, err := srv.Tool(name)
	switch {
	case err == nil:
		return path
	case srv.BinDir() != "":
		return filepath.Join(srv.BinDir(), name)
	}
	return name
}

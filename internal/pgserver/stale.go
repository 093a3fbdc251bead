package pgserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// stalePrefix starts the name of every cluster temp dir, so that later runs
// can find the ones a killed test binary or demo left.
const stalePrefix = "pgwiden-pg-"

// ownerFile holds the pid of the process that owns a cluster dir.
const ownerFile = "owner.pid"

// writeOwnerPID records this process as the owner of dir.
func writeOwnerPID(dir string) error {
	path := filepath.Join(dir, ownerFile)
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// removeStaleDirs deletes cluster dirs whose owner is dead. A process
// killed with -9 (or by go test's -timeout panic) runs no cleanup; Pdeathsig
// stops its server, but the data dir would pile up in /tmp run after run.
// A dir whose pid was reused by another process is kept: that is harmless.
func removeStaleDirs() {
	for _, base := range []string{os.TempDir(), "/tmp"} {
		dirs, _ := filepath.Glob(filepath.Join(base, stalePrefix+"*"))
		for _, dir := range dirs {
			b, err := os.ReadFile(filepath.Join(dir, ownerFile))
			if err != nil {
				continue // not ours, or still being made
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || pid <= 0 || pid == os.Getpid() {
				continue
			}
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				_ = os.RemoveAll(dir)
			}
		}
	}
}

package pgserver

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// serverCred is the identity initdb and postgres run as: nil when this
// process runs as an ordinary user, and an unprivileged user under root,
// because postgres refuses to start as root ("root" execution of the
// PostgreSQL server is not permitted). CI runs the tests as root.
var serverCred = sync.OnceValues(func() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	// postgres, made by the distribution's package, is preferred: files it
	// leaves behind then belong to the account meant for them.
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
		// An empty Groups drops root's supplementary groups too.
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("running as root and neither user postgres nor nobody exists; " +
		"PostgreSQL refuses to run as root: add one with `useradd --system postgres`")
})

// SysProcAttr returns the process attributes to run a PostgreSQL server
// program (postgres, pg_ctl, initdb) with: as the unprivileged user when
// this process runs as root, and killed if this process dies (Linux).
// Client programs such as pg_dump need none of this.
//
// The kernel sends the parent-death signal when the OS *thread* that
// started the child ends, not the process (golang/go#27505): start a
// long-lived server from a goroutine that calls runtime.LockOSThread and
// stays alive as long as the server, as this package's own start does.
func SysProcAttr() (*syscall.SysProcAttr, error) {
	cred, err := serverCred()
	if err != nil {
		return nil, err
	}
	attr := &syscall.SysProcAttr{Credential: cred}
	setPdeathsig(attr)
	return attr, nil
}

// MakeUserDir makes a fresh directory, named prefix and random characters,
// that the server user (see SysProcAttr) owns, under a parent it can
// traverse: a standby's data directory must belong to the user that runs
// its postgres. The caller removes it. os.TempDir is used unless, running as root, one
// of its parents is closed to others (TMPDIR=/root/tmp, say); /tmp then.
func MakeUserDir(prefix string) (string, error) {
	cred, err := serverCred()
	if err != nil {
		return "", err
	}
	base := os.TempDir()
	if cred != nil && !traversable(base) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", fmt.Errorf("make temp dir: %w", err)
	}
	// 0755 rather than MkdirTemp's 0700: the calling code and the server
	// user both read logs and backups in it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", errors.Join(fmt.Errorf("chmod %s: %w", dir, err), os.RemoveAll(dir))
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", errors.Join(fmt.Errorf("chown %s: %w", dir, err), os.RemoveAll(dir))
		}
	}
	return dir, nil
}

// traversable reports whether every directory from dir up to / lets other
// users through (o+x).
func traversable(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

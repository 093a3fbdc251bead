package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Timeouts of the local cluster's life.
const (
	readyTimeout = 30 * time.Second // from exec to accepting connections
	stopGrace    = 5 * time.Second  // from SIGINT (fast shutdown) to SIGKILL
)

// defaultSettings make a throwaway cluster fast (no fsync: a crash only
// loses a cluster we discard anyway) and keep replication possible for the
// pg_basebackup and streaming-standby tests, and logical replication between
// two databases of the cluster for the subscriber tests (wal_level=logical
// adds next to nothing to the WAL of tables with a primary key). It returns
// a new slice each time, so callers may append to it.
func defaultSettings() []string {
	return []string{
		"listen_addresses=127.0.0.1",
		"fsync=off",
		"synchronous_commit=off",
		"full_page_writes=off",
		"max_connections=200",
		"wal_level=logical",
		"max_wal_senders=10",
		"max_replication_slots=10",
	}
}

// errPortTaken marks a start that lost the race for its port to another
// process between freePort and postgres' bind; a retry picks another.
var errPortTaken = errors.New("port taken")

// cluster is a throwaway data directory and the postgres child serving it.
type cluster struct {
	bin      string   // initdb and postgres live here
	dir      string   // temp dir: data/, server.log and the unix socket
	settings []string // -c settings: defaults, then the caller's
	port     int

	cmd     *exec.Cmd
	exited  chan struct{} // closed when postgres has exited
	waitErr error         // postgres' exit status; read after exited
}

// startLocal makes a cluster with initdb, starts postgres on a free
// loopback port and waits until it accepts connections.
func startLocal(ctx context.Context, bin string, settings []string) (*Server, error) {
	removeStaleDirs()
	dir, err := MakeUserDir(stalePrefix)
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir, settings: append(defaultSettings(), settings...)}
	if err := c.setUp(ctx); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	return &Server{
		kind:     KindLocal,
		adminDSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port),
		binDir:   bin,
		where:    dir,
		cluster:  c,
		stopFn:   c.stop,
	}, nil
}

// setUp is the checklist of startLocal once the temp dir exists.
func (c *cluster) setUp(ctx context.Context) error {
	if err := writeOwnerPID(c.dir); err != nil {
		return err
	}
	if err := c.initdb(ctx); err != nil {
		return err
	}
	if err := c.allowReplication(); err != nil {
		return err
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = c.start(ctx); !errors.Is(err, errPortTaken) {
			break
		}
	}
	return err
}

// initdb makes data/ with trust authentication for the postgres role.
func (c *cluster) initdb(ctx context.Context) error {
	attr, err := SysProcAttr()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "initdb"),
		"-D", c.dataDir(), "-N", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C")
	cmd.Dir = c.dir // initdb as another user may not read the caller's cwd
	cmd.Env = serverEnv()
	cmd.SysProcAttr = attr
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", c.dataDir(), err, tail(out, 20))
	}
	return nil
}

// allowReplication makes sure pg_hba.conf lets pg_basebackup and standbys
// connect over loopback; initdb's sample has the line, but only by habit.
func (c *cluster) allowReplication() error {
	const line = "host replication all 127.0.0.1/32 trust"
	path := filepath.Join(c.dataDir(), "pg_hba.conf")
	hba, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	for _, l := range strings.Split(string(hba), "\n") {
		if strings.Join(strings.Fields(l), " ") == line {
			return nil
		}
	}
	// Appending keeps the file's owner, which the server user needs.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, err = fmt.Fprintln(f, line)
	return errors.Join(err, f.Close())
}

func (c *cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// serverEnv is the environment minus PG* variables, which would otherwise
// point initdb and postgres at the user's own cluster settings.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// tail returns the last n lines of out, for errors that quote a log.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

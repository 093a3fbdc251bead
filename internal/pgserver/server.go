package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/dsn"
)

// Kind says where a Server came from.
type Kind string

// The kinds of server, in the order Start tries them.
const (
	KindDSN       Kind = "dsn"       // the user's, from PGWIDEN_TEST_DSN
	KindLocal     Kind = "local"     // a throwaway cluster from local binaries
	KindContainer Kind = "container" // a throwaway postgres:16-alpine container
)

// Options tune the server Start makes.
type Options struct {
	// Settings are extra server settings as "name=value", passed to
	// postgres as -c after the defaults, so they win. A PGWIDEN_TEST_DSN
	// server is the user's and is left as it is.
	Settings []string
}

// validate checks the settings before anything is started.
func (o Options) validate() error {
	for _, s := range o.Settings {
		if name, _, ok := strings.Cut(s, "="); !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("server setting %q: want name=value, e.g. log_min_duration_statement=0", s)
		}
	}
	return nil
}

// Server is a running PostgreSQL server. Stop it when done; Stop of a
// PGWIDEN_TEST_DSN server only forgets it.
type Server struct {
	kind     Kind
	adminDSN string
	binDir   string
	where    string // for Describe: temp dir, image or DSN, no password
	version  int
	release  string   // server_version, e.g. "15.8 (Debian 15.8-1)"
	cluster  *cluster // the local cluster; nil for other kinds

	stopOnce sync.Once
	stopErr  error
	stopFn   func() error // stops what Start started; nil for a DSN server
}

// Start finds or starts a server in the order the package doc gives. ctx
// bounds the search and the start only, not the server's life.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	srv, err := resolve(ctx, envSources(), opts.Settings)
	if err != nil {
		return nil, err
	}
	if err := srv.readVersion(ctx); err != nil {
		return nil, errors.Join(err, srv.Stop())
	}
	return srv, nil
}

// readVersion records the version; it is also the first query through
// AdminDSN, so a server that started but cannot be used fails here.
func (s *Server) readVersion(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.adminDSN)
	if err != nil {
		return fmt.Errorf("connect to %s server %s: %w", s.kind, dsn.Describe(s.adminDSN), err)
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int, current_setting('server_version')").
		Scan(&s.version, &s.release)
	if err != nil {
		return fmt.Errorf("read server version of %s: %w", dsn.Describe(s.adminDSN), err)
	}
	return nil
}

// Kind says where the server came from.
func (s *Server) Kind() Kind { return s.kind }

// AdminDSN returns a superuser (or CREATEDB) DSN to the "postgres"
// database, or to the database PGWIDEN_TEST_DSN names.
func (s *Server) AdminDSN() string { return s.adminDSN }

// BinDir returns the directory of the server's binaries (pg_dump, pgbench,
// pg_basebackup of the same version). It is empty for PGWIDEN_TEST_DSN and
// container servers.
func (s *Server) BinDir() string { return s.binDir }

// Version returns the server's server_version_num, e.g. 150008.
func (s *Server) Version() int { return s.version }

// Describe names the server for a person, with no password, e.g.
// "throwaway local cluster, PostgreSQL 15.8, from /usr/lib/postgresql/15/bin in /tmp/pgwiden-pg-1".
func (s *Server) Describe() string {
	switch s.kind {
	case KindLocal:
		return fmt.Sprintf("throwaway local cluster, PostgreSQL %s, from %s in %s", s.release, s.binDir, s.where)
	case KindContainer:
		return fmt.Sprintf("throwaway %s container, PostgreSQL %s, at %s", containerImage, s.release, s.where)
	default:
		return fmt.Sprintf("your server from %s, PostgreSQL %s, at %s", envDSN, s.release, s.where)
	}
}

// Tool returns the path of a PostgreSQL program such as pg_dump or pgbench:
// from BinDir, so that it matches the server's version, or from PATH when
// the server has no local binaries.
func (s *Server) Tool(name string) (string, error) {
	if s.binDir == "" {
		path, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s: not in PATH, and the %s server has no local binaries", name, s.kind)
		}
		return path, nil
	}
	path := filepath.Join(s.binDir, name)
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s: no such program in %s; install the matching client package", name, s.binDir)
	}
	return path, nil
}

// Stop stops and removes what Start started: the local cluster with its
// temp dir, or the container. It is safe to call more than once and from
// several goroutines at once (a signal handler and a defer); every call
// returns the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.stopFn != nil {
			s.stopErr = s.stopFn()
		}
	})
	return s.stopErr
}

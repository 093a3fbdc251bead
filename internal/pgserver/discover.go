package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	pgdsn "github.com/pgwiden/pgwiden/internal/dsn"
)

// Environment variables that choose the server. They keep their TEST names
// for the demo too: one setting serves both, and CI already sets them.
const (
	envDSN   = "PGWIDEN_TEST_DSN"
	envPGBin = "PGWIDEN_PG_BIN"
)

// distroBinGlob is where Debian and Ubuntu install each major version's
// server binaries; pg_config is often missing there (it lives in libpq-dev).
const distroBinGlob = "/usr/lib/postgresql/*/bin"

// HowToProvide is the fix to print with Start's error: the reader is a
// developer or a CI log, and both need the fix, not only the failure.
const HowToProvide = `Provide a PostgreSQL server (12 or newer) in one of these ways:
  - install the distribution's server package: apt-get install postgresql
    (as root, "make pg-bin" does it); its binaries in /usr/lib/postgresql/<version>/bin are found
  - set ` + envPGBin + ` to a directory holding initdb and postgres, e.g. /usr/lib/postgresql/16/bin
  - set ` + envDSN + ` to the DSN of a running server whose role is a superuser or has CREATEDB,
    e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
  - run a Docker engine: a postgres:16-alpine container is then started with testcontainers`

// sources are the places resolve looks; tests replace them with fakes.
type sources struct {
	dsn      string                      // PGWIDEN_TEST_DSN
	pgBin    string                      // PGWIDEN_PG_BIN
	pgConfig func() (string, error)      // pg_config --bindir
	glob     string                      // distribution bin dirs
	docker   func(context.Context) error // nil when an engine answers
}

// envSources are the real places.
func envSources() sources {
	return sources{
		dsn:      os.Getenv(envDSN),
		pgBin:    os.Getenv(envPGBin),
		pgConfig: pgConfigBindir,
		glob:     distroBinGlob,
		docker:   dockerHealthy,
	}
}

// resolve finds a server in the documented order; settings are the extra
// -c settings of a server it starts.
func resolve(ctx context.Context, src sources, settings []string) (*Server, error) {
	if src.dsn != "" {
		return dsnServer(ctx, src.dsn)
	}
	var causes []string
	bin, err := findBinDir(src.pgBin, src.pgConfig, src.glob)
	switch {
	case err != nil && src.pgBin != "":
		return nil, err
	case err != nil:
		causes = append(causes, err.Error())
	default:
		srv, err := startLocal(ctx, bin, settings)
		if err == nil {
			return srv, nil
		}
		causes = append(causes, fmt.Sprintf("local server from %s: %v", bin, err))
	}
	if err := src.docker(ctx); err != nil {
		causes = append(causes, fmt.Sprintf("no Docker engine: %v", err))
	} else {
		srv, err := startContainer(ctx, settings)
		if err == nil {
			return srv, nil
		}
		causes = append(causes, fmt.Sprintf("postgres container: %v", err))
	}
	return nil, errors.New("no PostgreSQL server found:\n  - " + strings.Join(causes, "\n  - "))
}

// dsnServer checks that the user's server answers and that its role may
// create databases, which the tests and the demo need.
func dsnServer(ctx context.Context, dsn string) (*Server, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", envDSN, pgdsn.Describe(dsn), err)
	}
	defer conn.Close(context.Background())
	var ok bool
	err = conn.QueryRow(ctx, "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user").Scan(&ok)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: read role attributes: %w", envDSN, pgdsn.Describe(dsn), err)
	}
	if !ok {
		return nil, fmt.Errorf("%s=%s: role %q is neither superuser nor CREATEDB; run ALTER ROLE %s CREATEDB",
			envDSN, pgdsn.Describe(dsn), conn.Config().User, pgx.Identifier{conn.Config().User}.Sanitize())
	}
	return &Server{kind: KindDSN, adminDSN: dsn, where: pgdsn.Describe(dsn)}, nil
}

// findBinDir returns the first directory holding initdb and postgres: env
// (PGWIDEN_PG_BIN) if set, else pg_config's bindir, else the newest match of
// glob. The lookups are parameters so tests can point them at fake dirs.
func findBinDir(env string, pgConfig func() (string, error), glob string) (string, error) {
	if env != "" {
		if err := hasServer(env); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envPGBin, env, err)
		}
		return env, nil
	}
	dir, err := pgConfig()
	if err == nil {
		if err = hasServer(dir); err == nil {
			return dir, nil
		}
	}
	pgConfigCause := err
	matches, _ := filepath.Glob(glob) // the only error is a bad pattern
	sortNewestFirst(matches)
	for _, m := range matches {
		if hasServer(m) == nil {
			return m, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries: %s is unset, pg_config: %w, no initdb and postgres in %s",
		envPGBin, pgConfigCause, glob)
}

// pgConfigBindir asks pg_config in PATH for the binaries' directory.
func pgConfigBindir() (string, error) {
	path, err := exec.LookPath("pg_config")
	if err != nil {
		return "", errors.New("not in PATH")
	}
	out, err := exec.Command(path, "--bindir").Output()
	if err != nil {
		return "", fmt.Errorf("%s --bindir: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// hasServer reports why dir cannot host a cluster, or nil.
func hasServer(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("no %s in %s", name, dir)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s in %s is not an executable file", name, dir)
		}
	}
	return nil
}

// sortNewestFirst orders .../<version>/bin paths by version, numerically,
// so that 10 sorts above 9.6 (string order would put it below).
func sortNewestFirst(dirs []string) {
	version := func(dir string) []int {
		var v []int
		for _, part := range strings.Split(filepath.Base(filepath.Dir(dir)), ".") {
			n, err := strconv.Atoi(part)
			if err != nil {
				return v
			}
			v = append(v, n)
		}
		return v
	}
	sort.SliceStable(dirs, func(i, j int) bool {
		a, b := version(dirs[i]), version(dirs[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
}

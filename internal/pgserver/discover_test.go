package pgserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBin makes root/<version>/bin holding the named files, executable.
func fakeBin(t *testing.T, root, version string, names ...string) string {
	t.Helper()
	dir := filepath.Join(root, version, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func noPgConfig() (string, error) { return "", errors.New("not in PATH") }

func TestFindBinDir(t *testing.T) {
	root := t.TempDir()
	v96 := fakeBin(t, root, "9.6", "initdb", "postgres")
	v10 := fakeBin(t, root, "10", "initdb", "postgres")
	fakeBin(t, root, "17", "initdb") // client-only install: no postgres
	glob := filepath.Join(root, "*", "bin")
	other := fakeBin(t, t.TempDir(), "x", "initdb", "postgres")

	tests := []struct {
		name     string
		env      string
		pgConfig func() (string, error)
		want     string
		wantErr  string
	}{
		{"newest complete version, numerically", "", noPgConfig, v10, ""},
		{"env wins", other, noPgConfig, other, ""},
		{"bad env is an error", "/nonexistent", noPgConfig, "", "PGWIDEN_PG_BIN=/nonexistent: no initdb"},
		{"pg_config before glob", "", func() (string, error) { return v96, nil }, v96, ""},
		{"pg_config without server falls through", "", func() (string, error) { return root, nil }, v10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findBinDir(tt.env, tt.pgConfig, glob)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("findBinDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestResolveNothingFound checks the failure path CI must never pass
// through silently: every cause is listed.
func TestResolveNothingFound(t *testing.T) {
	src := sources{
		pgConfig: noPgConfig,
		glob:     filepath.Join(t.TempDir(), "*", "bin"),
		docker:   func(context.Context) error { return errors.New("cannot connect to the Docker daemon") },
	}
	_, err := resolve(context.Background(), src, nil)
	if err == nil {
		t.Fatal("resolve found a server among fakes")
	}
	for _, want := range []string{"PGWIDEN_PG_BIN is unset", "pg_config: not in PATH", "no Docker engine: cannot connect"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, want := range []string{"apt-get install postgresql", envPGBin, envDSN, "Docker engine"} {
		if !strings.Contains(HowToProvide, want) {
			t.Errorf("instructions lack %q", want)
		}
	}
}

// TestDockerHealthyReturns checks that the Docker probe neither panics nor
// hangs, whether or not this machine has an engine.
func TestDockerHealthyReturns(t *testing.T) {
	start := time.Now()
	err := dockerHealthy(context.Background())
	t.Logf("dockerHealthy after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("dockerHealthy took %v", took)
	}
}

func TestSortNewestFirst(t *testing.T) {
	dirs := []string{"/p/9.6/bin", "/p/16/bin", "/p/10/bin", "/p/dev/bin", "/p/9.5/bin"}
	sortNewestFirst(dirs)
	want := "/p/16/bin /p/10/bin /p/9.6/bin /p/9.5/bin /p/dev/bin"
	if got := strings.Join(dirs, " "); got != want {
		t.Errorf("sorted = %s, want %s", got, want)
	}
}

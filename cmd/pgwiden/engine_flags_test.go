package main

import (
	"errors"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// runEngineFlags parses args as a command taking every engine flag and
// returns the options check left, or its error.
func runEngineFlags(t *testing.T, args ...string) (*engineOptions, error) {
	t.Helper()
	o := newEngineOptions()
	cmd := &cli.Command{Name: "x", Flags: o.flags(append(append(timeoutFlags, walkFlags...), "max-attempts", "vacuum-every",
		"vacuum-fraction", "hot-passes", "maintenance-work-mem", "maintenance-workers", "wal-compression")...),
		Action: func(c *cli.Context) error { return o.check(c) }}
	app := &cli.App{Commands: []*cli.Command{cmd}, ExitErrHandler: func(*cli.Context, error) {}}
	err := app.Run(append([]string{"pgwiden", "x"}, args...))
	return o, err
}

// TestEngineFlags: each engine flag lands in the one configuration it is
// bound to, defaults included, and check derives the rest.
func TestEngineFlags(t *testing.T) {
	o, err := runEngineFlags(t)
	if err != nil || o.cfg.LockTimeout != 2*time.Second || o.throttle.cfg.StartBatch != 1000 || !o.throttle.lockWaiters {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = runEngineFlags(t, "--lock-timeout", "3s", "--batch-size", "50", "--signal-interval", "200ms", "--max-wal-rate", "50MB",
		"--max-attempts", "7", "--lock-waiters=false", "--throttle-query", " SELECT true ")
	if err != nil {
		t.Fatal(err)
	}
	tc := o.throttle.cfg
	switch {
	case o.cfg.LockTimeout != 3*time.Second || o.cfg.SwapAttempts != 7:
		t.Errorf("migrator config %+v", o.cfg)
	case tc.StartBatch != 50 || tc.MinBatch != 50 || tc.MaxBatch != 50000:
		t.Errorf("--batch-size 50: batches %d in [%d, %d], want 50 in [50, 50000]", tc.StartBatch, tc.MinBatch, tc.MaxBatch)
	case tc.SignalEvery != 200*time.Millisecond || tc.HoldPoll != 200*time.Millisecond:
		t.Errorf("--signal-interval 200ms: every %v, hold poll %v", tc.SignalEvery, tc.HoldPoll)
	case o.throttle.walRate != 50<<20 || o.throttle.lockWaiters || o.throttle.query != "SELECT true":
		t.Errorf("signals %+v", o.throttle)
	}
	if c := o.cfg; c.MaintenanceWorkMem != 256<<20 || c.MaintenanceWorkers != -1 || c.VacuumFraction != 0.1 || !c.AsyncCommit || !c.CompressWAL || c.HotPasses != 4 {
		t.Errorf("performance defaults: %+v", c)
	}
	o, err = runEngineFlags(t, "--maintenance-work-mem", "1GB", "--maintenance-workers", "4", "--vacuum-fraction", "0.25",
		"--async-commit=false", "--wal-compression=false", "--hot-passes", "2", "--nice-ratio", "0.5")
	if err != nil {
		t.Fatal(err)
	}
	if c := o.cfg; c.MaintenanceWorkMem != 1<<30 || c.MaintenanceWorkers != 4 || c.VacuumFraction != 0.25 || c.AsyncCommit || c.CompressWAL || c.HotPasses != 2 || o.throttle.cfg.NiceRatio != 0.5 {
		t.Errorf("performance flags: %+v", c)
	}
	if o, err = runEngineFlags(t, "--maintenance-work-mem", ""); err != nil || o.cfg.MaintenanceWorkMem != 0 {
		t.Errorf("--maintenance-work-mem '': %d, %v; want 0 (the server's setting)", o.cfg.MaintenanceWorkMem, err)
	}
	for _, bad := range [][]string{{"--max-rate", "-1"}, {"--lock-timeout", "0s"}, {"--max-wal-rate", "fast"}, {"--replica-dsn", "r=postgres://h/db"},
		{"--maintenance-work-mem", "lots"}, {"--maintenance-work-mem", "512kB"}, {"--maintenance-workers", "-2"}, {"--vacuum-fraction", "1.5"},
		{"--hot-passes", "0"}, {"--nice-ratio", "-1"}} {
		_, err := runEngineFlags(t, bad...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
}

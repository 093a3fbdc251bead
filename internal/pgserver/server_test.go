package pgserver

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/dsn"
)

func TestStartRefusesBadSettings(t *testing.T) {
	_, err := Start(context.Background(), Options{Settings: []string{"fsync"}})
	if err == nil || !strings.Contains(err.Error(), `"fsync": want name=value`) {
		t.Fatalf("Start with a setting without '=': err = %v", err)
	}
}

// TestStartStop starts a real server, the same one the integration tests
// get, checks that the caller's settings reach it, and that Stop leaves
// nothing behind.
func TestStartStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := Start(ctx, Options{Settings: []string{"work_mem=7MB"}})
	if err != nil {
		t.Fatalf("Start: %v\n\n%s", err, HowToProvide)
	}
	t.Logf("started %s", srv.Describe())
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Stop()
		}
	}()
	if srv.Version() < 120000 {
		t.Errorf("Version = %d, want >= 120000", srv.Version())
	}
	conn, err := pgx.Connect(ctx, srv.AdminDSN())
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn.Describe(srv.AdminDSN()), err)
	}
	var workMem string
	err = conn.QueryRow(ctx, "SHOW work_mem").Scan(&workMem)
	_ = conn.Close(ctx)
	if err != nil {
		t.Fatalf("SHOW work_mem: %v", err)
	}
	if srv.Kind() != KindDSN && workMem != "7MB" {
		t.Errorf("work_mem = %s, want the 7MB of Options.Settings", workMem)
	}
	if srv.BinDir() != "" {
		// pg_ctl ships with every server; pg_dump not always (the
		// version matrix's packages have none).
		if _, err := srv.Tool("pg_ctl"); err != nil {
			t.Errorf("Tool(pg_ctl): %v", err)
		}
	}
	if _, err := srv.Tool("no_such_pg_program"); err == nil {
		t.Error("Tool found no_such_pg_program")
	}

	stopped = true
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if srv.Kind() == KindLocal {
		if _, err := os.Stat(srv.where); !os.IsNotExist(err) {
			t.Errorf("cluster dir %s still there after Stop: %v", srv.where, err)
		}
	}
}

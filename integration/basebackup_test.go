package integration

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// baseBackup clones the test server into data (a directory the server user
// may create) as a streaming standby of it, named application_name=standby:
// with pg_basebackup -R where the server's binaries have one, else through
// the low-level backup functions (the version matrix's server packages
// ship no pg_basebackup).
func baseBackup(ctx context.Context, t *testing.T, dir, data string) {
	t.Helper()
	src, err := url.Parse(pgtest.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	q := src.Query()
	q.Set("application_name", "standby") // its name in the primary's pg_stat_replication
	src.RawQuery = q.Encode()
	if tool := pgtest.Tool("pg_basebackup"); fileExists(tool) {
		if out, err := runServerProgram(ctx, dir, tool, "-D", data, "-R", "-X", "stream", "-c", "fast", "-d", src.String()); err != nil {
			t.Fatalf("pg_basebackup of the test server (does pg_hba.conf allow replication from 127.0.0.1?): %v\n%s", err, out)
		}
		return
	}
	t.Logf("%s has no pg_basebackup: cloning through pg_backup_start/pg_backup_stop and a replication slot", pgtest.BinDir())
	if err := copyBackup(ctx, t, dir, data, src); err != nil {
		t.Fatalf("base backup of the test server without pg_basebackup: %v", err)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// backupFuncs are the low-level backup functions, renamed in 15.
func backupFuncs() (start, stop string) {
	if pgtest.Version() >= 150000 {
		return "SELECT pg_backup_start($1, true)", "SELECT labelfile, spcmapfile FROM pg_backup_stop(false)"
	}
	return "SELECT pg_start_backup($1, true, false)", "SELECT labelfile, spcmapfile FROM pg_stop_backup(false, false)"
}

// copyBackup takes a non-exclusive base backup by hand: a physical slot
// keeps the WAL from the backup's start, the data directory is copied by
// the server user (without WAL, slots or the postmaster's files) between
// the start and stop calls, which must come from one session, and the
// stop call's backup label goes into the copy, with the standby settings
// pg_basebackup -R would write. The slot is dropped at the test's end.
func copyBackup(ctx context.Context, t *testing.T, dir, data string, src *url.URL) error {
	conn, err := pgx.Connect(ctx, pgtest.AdminDSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	slot := "pgwiden_standby_" + strings.ReplaceAll(filepath.Base(dir), "-", "_")
	if _, err := conn.Exec(ctx, "SELECT pg_create_physical_replication_slot($1, true)", slot); err != nil {
		return fmt.Errorf("create slot %s: %w", slot, err)
	}
	t.Cleanup(func() { dropSlot(t, slot) })
	var primary string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&primary); err != nil {
		return err
	}
	start, stop := backupFuncs()
	if _, err := conn.Exec(ctx, start, "pgwiden test standby"); err != nil {
		return fmt.Errorf("start backup: %w", err)
	}
	// tar reports files that change or vanish as it reads them (exit 1):
	// expected of a live cluster; recovery replays over them.
	script := fmt.Sprintf(`mkdir -m 700 %[2]s && tar -C %[1]s -cf - --exclude=./pg_wal/* --exclude=./pg_replslot/* --exclude=./postmaster.pid --exclude=./postmaster.opts --exclude=./pg_stat_tmp/* . | tar -C %[2]s -xf -; rc=${PIPESTATUS[0]}; [ "$rc" -le 1 ]`,
		shellQuote(primary), shellQuote(data))
	out, copyErr := runServerProgram(ctx, dir, "/bin/bash", "-c", script)
	var label, spcmap string
	if err := conn.QueryRow(ctx, stop).Scan(&label, &spcmap); err != nil {
		return errors.Join(fmt.Errorf("stop backup: %w", err), copyErr)
	}
	if copyErr != nil {
		return fmt.Errorf("copy %s: %w\n%s", primary, copyErr, out)
	}
	conf := fmt.Sprintf("primary_conninfo = '%s'\nprimary_slot_name = '%s'\n", strings.ReplaceAll(src.String(), "'", "''"), slot)
	for name, text := range map[string]string{"backup_label": label, "standby.signal": "", "postgresql.auto.conf": conf} {
		if err := appendAsOwner(filepath.Join(data, name), data, text); err != nil {
			return err
		}
	}
	return nil
}

// appendAsOwner appends text to path, creating it owned as dir is (the
// server user's): postgres refuses files it cannot read.
func appendAsOwner(path, dir, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if err := errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return chownAs(path, dir)
}

// dropSlot drops the standby's slot once the standby is gone (its cleanup
// runs first), so the primary does not keep WAL for it.
func dropSlot(t *testing.T, slot string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.AdminDSN())
	if err != nil {
		t.Errorf("drop slot %s: %v", slot, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot); err != nil {
		t.Errorf("drop slot %s: %v", slot, err)
	}
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// chownAs gives path the owner and group of dir.
func chownAs(path, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("owner of %s: no stat_t", dir)
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}

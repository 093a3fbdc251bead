package pgserver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// helperEnv makes the test binary act as a process that starts a server
// and is then killed with -9.
const helperEnv = "PGSERVER_DEATHSIG_HELPER"

// TestKillNineStopsServer checks the promise Pdeathsig makes: a process
// killed with SIGKILL runs no cleanup, yet its postgres and every backend
// die with it, and the next Start removes the dir it left.
func TestKillNineStopsServer(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		deathsigHelper()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillNineStopsServer$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, dir, pids := readHelperLine(t, bufio.NewScanner(out))
	if strings.HasPrefix(line, "skip ") {
		t.Skipf("the server is not a local cluster (%s): Pdeathsig does not apply", strings.TrimPrefix(line, "skip "))
	}
	t.Logf("helper started postgres %v in %s; killing the helper with SIGKILL", pids, dir)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// Pdeathsig kills at once; without it postgres lives on (until some
	// later stale-dir cleanup pulls its data dir away), so keep this short.
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("postgres process %d outlived its parent killed with -9", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	removeStaleDirs()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("removeStaleDirs kept %s, whose owner is dead: %v", dir, err)
	}
}

// readHelperLine reads "<dir> <postmaster pid> <backend pids...>" or
// "skip <reason>" from the helper.
func readHelperLine(t *testing.T, sc *bufio.Scanner) (line, dir string, pids []int) {
	t.Helper()
	for sc.Scan() {
		line = sc.Text()
		if rest, ok := strings.CutPrefix(line, "HELPER "); ok {
			if strings.HasPrefix(rest, "skip ") {
				return rest, "", nil
			}
			f := strings.Fields(rest)
			for _, s := range f[1:] {
				pid, err := strconv.Atoi(s)
				if err != nil {
					t.Fatalf("helper line %q: %v", line, err)
				}
				pids = append(pids, pid)
			}
			return rest, f[0], pids
		}
	}
	t.Fatalf("helper ended without reporting its server: %v", sc.Err())
	return "", "", nil
}

// deathsigHelper starts a server, prints what the parent must watch, and
// waits to be killed.
func deathsigHelper() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := Start(ctx, Options{})
	if err != nil {
		fmt.Println("HELPER skip no server:", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	if srv.Kind() != KindLocal {
		fmt.Println("HELPER skip", srv.Kind())
		_ = srv.Stop()
		return
	}
	pids := backendPIDs(ctx, srv.AdminDSN())
	fmt.Printf("HELPER %s %d%s\n", srv.where, srv.cluster.cmd.Process.Pid, pids)
	time.Sleep(2 * time.Minute) // the parent kills us long before
}

// backendPIDs lists the server's other processes (checkpointer, walwriter,
// ...) as " pid pid ...", from a session that stays open as one more.
func backendPIDs(ctx context.Context, dsn string) string {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return ""
	}
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity")
	if err != nil {
		return ""
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
	var b strings.Builder
	for _, p := range pids {
		fmt.Fprintf(&b, " %d", p)
	}
	return b.String()
}

// alive reports whether pid runs; a zombie nobody reaped yet (PID 1 of a
// container may never reap) counts as dead.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the ")" that ends the command name.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

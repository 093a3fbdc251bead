package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// start runs postgres on a fresh port and waits until it is ready.
func (c *cluster) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	logPath := filepath.Join(c.dir, "server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", logPath, err)
	}
	defer logf.Close() // postgres keeps its own copy of the descriptor
	args := []string{"-D", c.dataDir(), "-p", strconv.Itoa(port), "-k", c.dir}
	for _, s := range c.settings {
		args = append(args, "-c", s)
	}
	// Not exec.CommandContext: ctx bounds the start, not the server's life.
	c.cmd = exec.Command(filepath.Join(c.bin, "postgres"), args...)
	c.cmd.Dir, c.cmd.Env = c.dir, serverEnv()
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if c.cmd.SysProcAttr, err = SysProcAttr(); err != nil {
		return err
	}
	if err := c.spawn(); err != nil {
		return fmt.Errorf("start %s: %w", c.cmd.Path, err)
	}
	if err := c.waitReady(ctx); err != nil {
		c.kill()
		log, _ := os.ReadFile(logPath)
		if bytes.Contains(log, []byte("Address already in use")) {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return fmt.Errorf("postgres on port %d: %w\nserver log %s:\n%s", port, err, logPath, tail(log, 30))
	}
	return nil
}

// spawn starts c.cmd from a goroutine locked to its OS thread that lives
// until postgres exits. Pdeathsig fires when the *thread* that forked the
// child ends, not the process (golang/go#27505), and Go ends a thread
// whenever a goroutine locked to it returns: an unlocked starter's thread
// could later host such a goroutine and take the server down mid-run.
func (c *cluster) spawn() error {
	c.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with us
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	return <-started
}

// waitReady polls with pgx until postgres accepts a connection, it exits,
// or readyTimeout passes.
func (c *cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", c.port)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited: %w", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not accepting connections after %v: %w", readyTimeout, err)
		case <-tick.C:
		}
	}
}

// stop asks for a fast shutdown, kills postgres if it lingers, and removes
// the temp dir. A postgres that had to be killed is reported, but the dir
// is removed all the same.
func (c *cluster) stop() error {
	var errs []error
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGINT) // fails only if it has exited
		select {
		case <-c.exited:
		case <-time.After(stopGrace):
			c.kill()
			errs = append(errs, fmt.Errorf("postgres (pid %d) ignored SIGINT for %v; killed it", c.cmd.Process.Pid, stopGrace))
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove cluster dir: %w", err))
	}
	return errors.Join(errs...)
}

// kill ends postgres at once and waits for it.
func (c *cluster) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// freePort asks the kernel for a loopback port nobody listens on. Another
// process may take it before postgres binds; start retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

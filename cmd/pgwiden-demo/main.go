package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without os.Exit, so that tearDown always runs.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgwiden-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("pgwiden", "bin/pgwiden", "the pgwiden binary to demonstrate (make demo builds it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(stderr, "pgwiden-demo: %s: %v; run `make demo`, which builds it first\n", *bin, err)
		return 1
	}
	d := &demo{pgwiden: *bin, stdout: stdout, stderr: stderr}
	err := d.setUp(ctx)
	if err == nil {
		err = d.runSteps(ctx, steps())
	}
	return d.report(ctx, err, d.tearDown())
}

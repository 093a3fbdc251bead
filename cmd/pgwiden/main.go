// Command pgwiden widens int4/int2 key columns of a live PostgreSQL database
// to bigint without downtime. See README.md for the runbook.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := newApp(os.Stdout, os.Stderr)
	err := app.RunContext(ctx, os.Args)
	stop()
	os.Exit(report(os.Stderr, err))
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without os.Exit, so that the server is always stopped.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgwiden-docs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("pgwiden", "bin/pgwiden", "the pgwiden binary whose output the docs show (make docs-samples builds it)")
	sqlDir := fs.String("sql", "cmd/pgwiden-demo", "directory of the demo's schema.sql, seed.sql and incident.sql")
	graphOnly := fs.Bool("graph-only", false, "write only the import graph (no server; the files must hold no other sample)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "pgwiden-docs: name the Markdown files to rewrite (make docs-samples: README.md docs/*.md)")
		return 2
	}
	graph, err := importGraph(".")
	if err != nil {
		fmt.Fprintf(stderr, "pgwiden-docs: import graph: %v\n", err)
		return 1
	}
	if *graphOnly {
		return report(stderr, rewriteFiles(files, map[string]string{graphBlock: graph}), 1, len(files))
	}
	// Absolute: every command runs in the run's own working directory.
	pgwiden, err := filepath.Abs(*bin)
	if err != nil {
		fmt.Fprintf(stderr, "pgwiden-docs: %s: %v\n", *bin, err)
		return 1
	}
	r := &runner{pgwiden: pgwiden, sqlDir: *sqlDir, log: stderr}
	outputs, err := r.samples(ctx)
	if err == nil {
		outputs[graphBlock] = graph
		err = rewriteFiles(files, outputs)
	}
	return report(stderr, err, len(outputs), len(files))
}

// report prints how the run ended and returns its exit status.
func report(stderr io.Writer, err error, samples, files int) int {
	if err != nil {
		fmt.Fprintf(stderr, "pgwiden-docs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "pgwiden-docs: %d samples written into %d files\n", samples, files)
	return 0
}

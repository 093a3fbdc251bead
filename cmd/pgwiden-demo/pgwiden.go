package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// outcomes explain the non-zero exit codes a step expects from pgwiden;
// exit status 0 is always expected.
type outcomes map[int]string

// pgwidenStep runs bin/pgwiden with args against the demo database, its
// output passed through as is. Any other exit status than the expected
// ones is reported and the demo goes on, since later commands still tell
// the reader something; report fails the demo at the end. Only a binary
// that cannot run at all, or Ctrl-C, stops the demo.
func pgwidenStep(expected outcomes, args ...string) step {
	shown := "pgwiden " + strings.Join(args, " ")
	return step{
		header: "\n$ " + shown, // set apart from the previous output
		run: func(ctx context.Context, d *demo) error {
			code, err := d.runPgwiden(ctx, args)
			if err != nil {
				return err
			}
			if why, ok := expected[code]; ok {
				d.say("%s", why)
			} else if code != 0 {
				d.say("%s: exit status %d, which the demo does not expect; going on", shown, code)
				d.surprises = append(d.surprises, fmt.Sprintf("%s: exit status %d", shown, code))
			}
			return nil
		},
	}
}

// runPgwiden runs the binary on the demo database and returns its exit
// status. pgwiden writes to the demo's own stdout and stderr, so on a
// terminal it logs as it would for an operator.
func (d *demo) runPgwiden(ctx context.Context, args []string) (int, error) {
	// Console logs read better in a demo than JSON, terminal or not.
	cmd := exec.CommandContext(ctx, d.pgwiden, append([]string{"--dsn", d.dsn, "--log-format", "console"}, args...)...)
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", d.pgwiden, err)
	}
	return 0, nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// targetFlags are shared by plan and every phase command.
func targetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "schema", Value: "public", Usage: "schema of the target table, exactly as in the catalog"},
		&cli.StringFlag{Name: "table", Required: true, Usage: "target table, exactly as in the catalog (case-sensitive, unquoted)"},
		&cli.GenericFlag{Name: "column", Value: &columnList{}, Usage: "target column, exactly as in the catalog (case-sensitive, unquoted); repeat it to widen several columns of the table in one migration (the first names the migration)"},
		&cli.BoolFlag{Name: "all-int-keys", Usage: "also widen every smallint or integer column of the table that is in its primary key, a unique constraint or a foreign key"},
	}
}

func targetFrom(c *cli.Context) (planner.Target, error) {
	cols := c.Generic("column").(*columnList).names
	t := planner.Target{Table: catalog.QName{Schema: c.String("schema"), Name: c.String("table")}, AllIntKeys: c.Bool("all-int-keys")}
	if len(cols) > 0 {
		t.Column, t.Also = cols[0], cols[1:]
	}
	if len(cols) == 0 && !t.AllIntKeys {
		return t, usageError("--column not set: name the target column (repeat --column for several), or give --all-int-keys")
	}
	if t.Table.Schema == "" || t.Table.Name == "" || slices.Contains(cols, "") {
		return t, usageError("--schema, --table and --column must not be empty")
	}
	return t, nil
}

// columnList collects a repeated --column. Unlike a string slice flag it
// never splits a value at commas: a column name may hold one.
type columnList struct{ names []string }

func (l *columnList) Set(v string) error { l.names = append(l.names, v); return nil }
func (l *columnList) String() string     { return strings.Join(l.names, ", ") }

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what widening a column involves: the FK closure, blockers, each phase's SQL and locks (read-only)",
		Flags: append(targetFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON (stable format, see README)"},
			&cli.StringFlag{Name: "out", Usage: "also write the JSON plan to this file"},
			&cli.StringFlag{Name: "dump-catalog", Usage: "write the catalog snapshot as JSON to this file (for bug reports)"},
		),
		Action: withEnv(runPlan),
	}
}

func runPlan(ctx context.Context, e *env, c *cli.Context) error {
	target, err := targetFrom(c)
	if err != nil {
		return err
	}
	snap, err := catalog.Load(ctx, e.pool, nil)
	if err != nil {
		return fmt.Errorf("read catalog: %w", err)
	}
	if path := c.String("dump-catalog"); path != "" {
		if err := writeJSON(path, snap); err != nil {
			return err
		}
	}
	p, err := planner.Build(snap, target)
	if err != nil {
		return err
	}
	if path := c.String("out"); path != "" {
		if err := writeJSON(path, p); err != nil {
			return err
		}
	}
	if c.Bool("json") {
		err = encodeJSON(e.stdout, p)
	} else {
		err = planner.WriteText(e.stdout, p)
	}
	if err != nil {
		return fmt.Errorf("print plan: %w", err)
	}
	if len(p.Blockers) > 0 {
		return &exitError{code: exitBlocked, err: fmt.Errorf("plan for %s has %d blocker(s): fix them and plan again", target, len(p.Blockers))}
	}
	return nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeJSON(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return usageError("%s: %v", path, err)
	}
	if err := encodeJSON(f, v); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

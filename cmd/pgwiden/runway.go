package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/runway"
)

// confirmFlag is the flag a runway requires: the name says what it does.
const confirmFlag = "i-understand-ids-go-negative"

func runwayCommand() *cli.Command {
	def := migrator.DefaultConfig()
	return &cli.Command{
		Name:  "runway",
		Usage: "emergency: move the sequence feeding an int4/int2 key into the negative half of its range (about 2^31 more ids)",
		Description: "A metadata-only ALTER SEQUENCE that takes effect at once, to buy time while the column is widened.\n" +
			"New ids are negative and sort before every old one: read docs/runway.md first. Refuses when a CHECK or\n" +
			"domain rejects negative ids (evaluated on the server), when the sequence is already negative, cycles or\n" +
			"feeds other columns. --undo gives positive ascending ids above the largest key back (int4 columns with\n" +
			"room left); the cutover of a migration does that by itself.",
		Flags: append(targetFlags(),
			&cli.StringFlag{Name: "sequence", Usage: "the sequence you expect to feed the column (schema.name); refused if it does not"},
			&cli.BoolFlag{Name: confirmFlag, Usage: "required: you have read the dangers (docs/runway.md)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would change and the dangers, change nothing"},
			&cli.BoolFlag{Name: "undo", Usage: "return the sequence to ascending positive ids above the largest key"},
			&cli.DurationFlag{Name: "lock-timeout", Value: def.LockTimeout, Usage: "longest wait for the sequence's lock; retried later"},
		),
		Before: func(c *cli.Context) error {
			if !c.Bool(confirmFlag) && !c.Bool("dry-run") && !c.Bool("undo") {
				return usageError("runway: new ids will be negative and sort before every existing one; run with --dry-run to see what changes, then pass --%s", confirmFlag)
			}
			if c.Duration("lock-timeout") <= 0 {
				return usageError("--lock-timeout must be positive")
			}
			return nil
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("runway: %s (see pgwiden runway --help)", err)
		},
		Action: withEnv(runRunway),
	}
}

func runRunway(ctx context.Context, e *env, c *cli.Context) error {
	t, err := targetFrom(c)
	if err != nil {
		return err
	}
	ch, err := planRunway(ctx, e, c, t)
	if err != nil {
		return err
	}
	if err := runway.WriteText(e.stdout, ch, c.Bool("dry-run")); err != nil {
		return err
	}
	if c.Bool("dry-run") {
		return nil
	}
	cfg := migrator.DefaultConfig()
	cfg.LockTimeout = c.Duration("lock-timeout")
	m := migrator.New(e.pool, nil, nil, e.log.With().Str("component", "runway").Logger(), cfg, migrator.Hooks{})
	ran, err := m.RunStep(ctx, ch.Step)
	if err != nil {
		return fmt.Errorf("runway %s: %w", ch.Sequence.Name, err)
	}
	switch {
	case !ran:
		_, err = fmt.Fprintf(e.stdout, "\nrunway: nothing to do, %s was changed already\n", ch.Sequence.Name)
	case ch.Undo:
		_, err = fmt.Fprintf(e.stdout, "\nrunway: %s gives ascending positive ids again\n", ch.Sequence.Name)
	default:
		_, err = fmt.Fprintf(e.stdout, "\nrunway: %s now gives ids from %d up to %d; widen %s next\n", ch.Sequence.Name, ch.From, ch.To, ch.Target)
	}
	return err
}

// planRunway reads the catalog and plans the runway (or its undo) for t,
// with the server's verdict on the checks that could reject the new ids.
func planRunway(ctx context.Context, e *env, c *cli.Context, t planner.Target) (*runway.Change, error) {
	snap, err := catalog.Load(ctx, e.pool, nil)
	if err != nil {
		return nil, fmt.Errorf("runway: %w", err)
	}
	base, err := baseType(ctx, e, snap, t.Table, t.Column)
	if err != nil {
		return nil, err
	}
	if c.Bool("undo") {
		return runway.PlanUndo(snap, t, base)
	}
	ch, err := runway.Plan(snap, t, base, sequenceFlag(c))
	if err != nil {
		return nil, err
	}
	return ch, runway.Evaluate(ctx, e.pool, snap, ch)
}

// sequenceFlag reads --sequence as schema.name (public when unqualified).
func sequenceFlag(c *cli.Context) *catalog.QName {
	s := c.String("sequence")
	if s == "" {
		return nil
	}
	schema, name, ok := strings.Cut(s, ".")
	if !ok {
		schema, name = "public", s
	}
	return &catalog.QName{Schema: schema, Name: name}
}

// baseType is the integer type under the target column: its own type, or
// its domain's base type. "" when the column is not found (Plan says so).
func baseType(ctx context.Context, e *env, snap *catalog.Snapshot, table catalog.QName, column string) (string, error) {
	tab := snap.Table(table)
	if tab == nil || tab.Column(column) == nil {
		return "", nil
	}
	typ := tab.Column(column).Type
	if _, ok := catalog.TypeMax(typ); ok {
		return typ, nil
	}
	base, err := catalog.DomainBase(ctx, e.pool, typ)
	if err != nil {
		return "", fmt.Errorf("runway: %w", err)
	}
	if base == "" {
		return typ, nil
	}
	return base, nil
}

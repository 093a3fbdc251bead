package runway

import (
	"fmt"
	"io"
	"strings"
)

// Dangers are what a runway breaks, for the operator to weigh before
// taking it. They are printed every time, dry run or not.
var Dangers = []string{
	"New ids are negative and sort BEFORE every existing id: ORDER BY id DESC (\"newest first\") lists them last, and max(id) no longer finds the newest row.",
	"Cursor (keyset) pagination by id (WHERE id > :last ORDER BY id) never reaches the new rows; ids compared to decide \"newer\" are wrong.",
	"Clients that parse or store ids as unsigned (uint32, unsigned columns in other systems) or validate them as positive reject the new ids, in URLs too.",
	"CHECK constraints and domains that require positive ids reject the new rows: pgwiden evaluated those it found (below), not the application's own checks.",
	"Sessions with cached sequence values (CACHE > 1) hand out their cached positive ids first.",
	"It buys time, it fixes nothing: widen the column (pgwiden prepare, backfill, cutover); the cutover gives the sequence back positive ids above the largest key, as bigint.",
}

// WriteText prints what the change does, what was checked, the dangers and
// the statement.
func WriteText(w io.Writer, ch *Change, dryRun bool) error {
	s := &ch.Sequence
	var b strings.Builder
	if ch.Undo {
		fmt.Fprintf(&b, "pgwiden runway --undo: %s (%s), fed by sequence %s\n\n", ch.Target, ch.Type, s.Name)
		fmt.Fprintf(&b, "  now:    MINVALUE %d MAXVALUE %d, last value %s\n", s.Min, s.Max, last(s.LastValue))
		fmt.Fprintf(&b, "  after:  MINVALUE 1, ascending from the largest key + 1 (read under a SHARE lock)\n")
	} else {
		fmt.Fprintf(&b, "pgwiden runway: %s (%s), fed by sequence %s (%s)\n\n", ch.Target, ch.Type, s.Name, s.DataType)
		fmt.Fprintf(&b, "  now:    MINVALUE %d MAXVALUE %d, last value %s", s.Min, s.Max, last(s.LastValue))
		if s.LastValue != nil {
			fmt.Fprintf(&b, " (%d left)", max(s.Max-*s.LastValue, 0))
		}
		fmt.Fprintf(&b, "\n  after:  MINVALUE %d MAXVALUE %d, next id %d: %d more ids\n", ch.From, ch.To, ch.From, ch.Size())
		fmt.Fprintf(&b, "\nColumns that receive the new ids:\n")
		for _, c := range ch.Columns {
			fmt.Fprintf(&b, "  %s.%s\n", c.Table, c.Column)
		}
		fmt.Fprintf(&b, "\nChecked by evaluating them with %d and %d:\n", ch.From, ch.To)
		if len(ch.Checked) == 0 {
			fmt.Fprintf(&b, "  no CHECK constraint or domain on these columns\n")
		}
		for _, c := range ch.Checked {
			fmt.Fprintf(&b, "  %s\n", c)
		}
		fmt.Fprintf(&b, "\nDangers:\n")
		for _, d := range Dangers {
			fmt.Fprintf(&b, "  - %s\n", d)
		}
	}
	verb := "Runs"
	if dryRun {
		verb = "Would run (dry run, nothing changed)"
	}
	on := "the sequence"
	if ch.Undo {
		on = "the table"
	}
	fmt.Fprintf(&b, "\n%s, lock %s on %s, under lock_timeout with retries:\n  %s\n", verb, ch.Step.Lock, on,
		strings.ReplaceAll(ch.Step.SQL, "\n", "\n  "))
	_, err := io.WriteString(w, b.String())
	return err
}

func last(v *int64) string {
	if v == nil {
		return "unknown (never used, or not readable)"
	}
	return fmt.Sprint(*v)
}

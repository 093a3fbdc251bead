package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// Runway handling in the swap. `pgwiden runway` may have moved a closure
// column's sequence into the negative half of its range, before prepare or
// at any time during the migration, so the swap checks the live catalog
// rather than the snapshot the plan was built from: if the sequence is on a
// runway when the swap runs, it goes back to ascending positive values
// above the largest key, as bigint, in the swap's transaction. Reading the
// largest key there, under the swap's ACCESS EXCLUSIVE lock, means no row
// can be inserted between the read and the restart.

// onRunwaySQL is true when the sequence (a quoted name, as a literal) is on
// a runway now: see catalog.Sequence.OnRunway.
const onRunwaySQL = "EXISTS (SELECT 1 FROM pg_catalog.pg_sequence WHERE seqrelid = '%s'::regclass AND seqincrement > 0 AND seqmax < 0)"

// restoreRunways adds, forward only, the runway restore of every closure
// column fed by a sequence that is not an identity's (moveIdentity handles
// those: it re-creates the identity's sequence anyway).
func (b *builder) restoreRunways(s *stmts, d direction) {
	if d != forward {
		return
	}
	for _, w := range b.work {
		for _, m := range w.cols {
			// A sequence Citus propagates gives way to a new one instead.
			if m.col.Sequence != nil && m.col.Identity == "" && b.citusSequence(w.t.Name, m.col.Name) == nil {
				s.add("%s", RestoreSequenceSQL(*m.col.Sequence, w.t.Name, m.col.Name, "bigint", math.MaxInt64))
			}
		}
	}
}

// RestoreSequenceSQL renders a DO block that moves seq, when it is on a
// runway, back to ascending positive values after the largest value of col
// in table. typ, when set, is the sequence's new type (bigint at cutover);
// limit is the largest value the column holds: the block fails, changing
// nothing, when the next value would not fit. Without a runway it does
// nothing, so it can run any number of times.
func RestoreSequenceSQL(seq, table catalog.QName, col, typ string, limit int64) string {
	lit := sqlQuoteInner(seq.Quoted())
	as := ""
	if typ != "" {
		as = " AS " + typ
	}
	check := ""
	if limit < math.MaxInt64 {
		check = fmt.Sprintf("\n    IF v > %d THEN\n      RAISE EXCEPTION 'the largest %s is %%, the column''s type stops at %d: there is no positive range left to return to', v - 1\n"+
			"        USING HINT = 'keep the runway until the column is widened (pgwiden prepare, backfill, cutover)';\n    END IF;",
			limit, strings.ReplaceAll(sqlQuoteInner(table.String()+"."+col), "%", "%%"), limit)
	}
	return "DO " + dollarQuote(fmt.Sprintf(`DECLARE v bigint;
BEGIN
  IF `+onRunwaySQL+` THEN
    SELECT greatest(max(%s)::bigint, 0) + 1 INTO v FROM %s;%s
    EXECUTE format('ALTER SEQUENCE %%s%s MINVALUE 1 NO MAXVALUE START WITH 1 RESTART WITH %%s', '%s', v);
  END IF;
END`, lit, catalog.Ident(col), table.Quoted(), check, as, lit))
}

// identityRunwaySQL is the statement moveIdentity adds, forward, after
// reading the old identity's next value into v: on a runway, v becomes the
// value after the largest key instead.
func identityRunwaySQL(seq, table catalog.QName, col string) string {
	return fmt.Sprintf("\n  IF "+onRunwaySQL+" THEN\n    SELECT greatest(max(%s)::bigint, 0) + 1 INTO v FROM %s;\n  END IF;",
		sqlQuoteInner(seq.Quoted()), catalog.Ident(col), table.Quoted())
}

// identityOptions are the options an identity is re-created with: the old
// sequence's, except that a sequence on a runway gets back the defaults of
// an ascending one (START WITH 1, MINVALUE 1).
func identityOptions(seq *catalog.Sequence) string {
	start, minv := seq.Start, seq.Min
	if seq.OnRunway() {
		start, minv = 1, 1
	}
	opts := fmt.Sprintf("SEQUENCE NAME %s START WITH %d INCREMENT BY %d MINVALUE %d CACHE %d", seq.Name.Quoted(), start, seq.Increment, minv, max(seq.Cache, 1))
	if seq.Cycle {
		opts += " CYCLE"
	}
	return opts
}

// warnRunways tells the operator which closure sequences are on a runway
// now, and what the swap will do about it.
func (b *builder) warnRunways() {
	for _, w := range b.work {
		for _, m := range w.cols {
			if m.col.Sequence == nil {
				continue
			}
			s := b.snap.Sequence(*m.col.Sequence)
			if s == nil || !s.OnRunway() {
				continue
			}
			b.finds.warn("runway", s.Name.String(),
				fmt.Sprintf("the sequence is on the emergency runway (pgwiden runway): it hands out negative ids up to %d; backfill and verification walk them like any other key", s.Max),
				"nothing to do: the swap gives the sequence ascending positive ids above the largest key, as bigint, in its transaction")
		}
	}
}

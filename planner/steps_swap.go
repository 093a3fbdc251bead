package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// swapSteps renders the one short transaction that exchanges the columns.
// It takes every lock up front, in one LOCK TABLE listing parents before
// children (the order the application's own statements take them), so it
// either gets them all within lock_timeout or holds none and retries; after
// that it only changes the catalog: no statement in it scans a table.
func (b *builder) swapSteps() error {
	sql, err := b.swapSQL(forward)
	if err != nil {
		return err
	}
	b.sequenceFloorSteps(forward)
	b.add(Step{ID: "cutover/swap", Phase: Cutover, SQL: sql, Lock: AccessExclusive, InTx: true,
		Note: "one transaction, catalog changes only; never waits longer than lock_timeout, retried with backoff"})
	b.refreshSteps(Cutover)
	b.validateDeferredFKs(Cutover, "cutover/validate/")
	return nil
}

// swapSQL renders the swap in direction d: forward at cutover, backward
// when a rollback after cutover swaps the old columns back in.
func (b *builder) swapSQL(d direction) (string, error) {
	var s stmts
	if b.citusClosure() {
		s.add("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
	}
	s.add("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", b.lockList())
	b.dropPolicies(&s)
	b.guardLeafTriggers(&s)
	b.dropViews(&s)
	for _, fk := range b.fks {
		s.add("ALTER TABLE %s DROP CONSTRAINT %s", fk.table.Name.Quoted(), catalog.Ident(fk.con.Name))
	}
	for _, w := range b.work {
		for _, u := range w.units() {
			for _, con := range b.closureConstraints(u) {
				s.add("ALTER TABLE %s DROP CONSTRAINT %s", u.t.Name.Quoted(), catalog.Ident(con.Name))
			}
		}
	}
	for _, w := range b.work {
		b.swapColumns(&s, w, d)
		for _, u := range w.units() {
			b.recreateColumnTriggers(&s, u)
		}
	}
	b.restoreRunways(&s, d)
	for _, w := range b.work {
		for _, u := range w.units() {
			b.swapIndexes(&s, u, d)
			for _, con := range b.closureConstraints(u) {
				if con.Type == catalog.ConCheck {
					s.add("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", u.t.Name.Quoted(), catalog.Ident(d.copy(con.Name)), catalog.Ident(con.Name))
				}
			}
		}
	}
	if err := b.swapFKs(&s, d); err != nil {
		return "", err
	}
	b.createViews(&s)
	b.carryInSwap(&s, d)
	b.createPolicies(&s)
	for _, w := range b.work {
		b.syncFunction(&s, w, d)
	}
	b.touchTriggerFunctions(&s)
	return s.String(), nil
}

// direction names the columns and objects a swap exchanges. Forward, the
// live column retires as <col>_pgwiden_old and the shadow <col>_pgwiden_new
// takes its name, with the indexes and constraints built on it (named
// *_pgwiden_new). Backward, the live (bigint) column goes back to being
// <col>_pgwiden_new and <col>_pgwiden_old returns, with the copies of its
// key constraints rebuilt before the swap back (named *_pgwiden_back).
type direction bool

const (
	forward  direction = false
	backward direction = true
)

// retire is the name the live column takes; promote the column that
// becomes live.
func (d direction) retire(col string) string {
	if d == backward {
		return shadowName(col)
	}
	return oldName(col)
}

func (d direction) promote(col string) string {
	if d == backward {
		return oldName(col)
	}
	return shadowName(col)
}

// copy names the index or constraint built ahead of the swap on the
// column being promoted.
func (d direction) copy(name string) string {
	if d == backward {
		return backObject(name)
	}
	return newObject(name)
}

// spare names a plain index kept for the other direction: forward the old
// column's index retires under *_pgwiden_old, backward the bigint
// column's goes back to *_pgwiden_new.
func (d direction) spare(name string) string {
	if d == backward {
		return newObject(name)
	}
	return oldObject(name)
}

// promoted names the plain index that takes the original name.
func (d direction) promoted(name string) string {
	if d == backward {
		return oldObject(name)
	}
	return newObject(name)
}

// stmts collects the statements of a script.
type stmts []string

// add appends one statement. Every argument is already quoted SQL.
func (s *stmts) add(format string, args ...any) { *s = append(*s, fmt.Sprintf(format, args...)) }

func (s stmts) String() string { return strings.Join(s, ";\n") }

// lockList lists the closure's tables, then the other tables of affected
// foreign keys, each once, parents first, then the views to re-create.
func (b *builder) lockList() string {
	var names []catalog.QName
	for _, w := range b.work {
		names = append(names, w.t.Name)
	}
	for _, fk := range b.fks {
		for _, n := range []catalog.QName{*fk.con.RefTable, fk.table.Name} {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	for _, v := range b.views {
		// Dropped and re-created: locked up front too. LOCK TABLE refuses
		// a materialized view; its DROP takes the lock in turn, under the
		// same lock_timeout.
		if v.Kind == "view" {
			names = append(names, v.Name)
		}
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = n.Quoted()
	}
	return strings.Join(q, ", ")
}

// closureConstraints are the table's own primary key, unique and check
// constraints that use a closure column: the swap replaces them.
func (b *builder) closureConstraints(w *tableWork) []catalog.Constraint {
	var out []catalog.Constraint
	for _, con := range w.t.Constraints {
		switch con.Type {
		case catalog.ConPrimary, catalog.ConUnique, catalog.ConCheck:
			if !con.Inherited && b.usesClosure(w, con.Columns) {
				out = append(out, con)
			}
		}
	}
	return out
}

// swapColumns renames the two columns and moves what belongs to the live
// one: default, NOT NULL, sequence ownership, identity.
func (b *builder) swapColumns(s *stmts, w *tableWork, d direction) {
	t := w.t.Name.Quoted()
	for _, m := range w.cols {
		col, retired := catalog.Ident(m.col.Name), catalog.Ident(d.retire(m.col.Name))
		citusSeq := b.citusSequence(w.t.Name, m.col.Name)
		if citusSeq != nil {
			b.setSequenceDefault(s, citusSeq, d)
		}
		s.add("ALTER TABLE %s RENAME COLUMN %s TO %s", t, col, retired)
		s.add("ALTER TABLE %s RENAME COLUMN %s TO %s", t, catalog.Ident(d.promote(m.col.Name)), col)
		if m.col.NotNull && d == backward {
			// The validated CHECK built before the swap back proves it:
			// SET NOT NULL skips its scan, and the check can go. (Before
			// the identity: an identity column must be NOT NULL.)
			restoreNotNull(s, t, m.col)
			s.add("ALTER TABLE %s DROP CONSTRAINT %s", t, catalog.Ident(notNullCheck(m.col.Name)))
		}
		switch {
		case m.col.Identity != "":
			b.moveIdentity(s, w.t.Name, m.col, d)
		case citusSeq != nil:
			// Citus refuses SET DEFAULT nextval() next to another subcommand.
			s.add("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", t, retired)
			s.add("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", t, col, sequenceDefault(citusSeq, d))
		case m.col.Default != "" && w.t.Citus != nil:
			s.add("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", t, retired)
			s.add("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", t, col, m.col.Default)
		case m.col.Default != "":
			s.add("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT, ALTER COLUMN %s SET DEFAULT %s", t, retired, col, m.col.Default)
		case m.col.NotNull && d == forward:
			s.add("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", t, col)
		}
		if m.col.NotNull && d == forward {
			// The old column follows the new one only while values fit,
			// NULL beyond: it must accept NULL from now on. (After the
			// identity is gone: an identity column must stay NOT NULL.)
			s.add("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL", t, retired)
			promoteNotNullName(s, t, m.col)
		}
		if seq := b.ownedSequence(w.t.Name, m.col); seq != nil && citusSeq == nil {
			// Without this, cleanup's DROP COLUMN would drop the sequence.
			s.add("ALTER SEQUENCE %s OWNED BY %s.%s", seq.Quoted(), t, col)
		}
	}
}

// ownedSequence returns the non-identity sequence OWNED BY this column.
func (b *builder) ownedSequence(t catalog.QName, c *catalog.Column) *catalog.QName {
	for _, sq := range b.snap.Sequences {
		if o := sq.OwnedBy; o != nil && !sq.Identity && o.Table == t && o.Column == c.Name {
			return &sq.Name
		}
	}
	return nil
}

// moveIdentity moves an identity from the old column to the new one. An
// identity sequence cannot change owner, so the old one is dropped and a new
// one created with the same options, then set to go on after the last
// value, read under the swap's lock so no value can be handed out twice.
// setval is used rather than START WITH so the sequence's definition stays
// what it was. DDL takes no parameters, hence the DO block; "%" in names is
// doubled because format() reads it.
func (b *builder) moveIdentity(s *stmts, t catalog.QName, c *catalog.Column, d direction) {
	seq := b.snap.Sequence(*c.Sequence)
	if seq == nil { // not readable: keep PostgreSQL's defaults
		seq = &catalog.Sequence{Name: *c.Sequence, Start: 1, Increment: 1, Min: 1, Cache: 1}
	}
	kind := "BY DEFAULT"
	if c.Identity == "a" {
		kind = "ALWAYS"
	}
	opts := identityOptions(seq)
	old := catalog.Ident(d.retire(c.Name))
	runway := ""
	if d == forward {
		runway = identityRunwaySQL(seq.Name, t, c.Name)
	}
	s.add("DO %s", dollarQuote(fmt.Sprintf(`DECLARE v bigint;
BEGIN
  SELECT CASE WHEN is_called THEN last_value + %d ELSE last_value END INTO v FROM %s;%s
  ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY;
  ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;
  ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY (%s);
  PERFORM setval('%s', v, false);
END`, seq.Increment, seq.Name.Quoted(), runway, t.Quoted(), old, t.Quoted(), catalog.Ident(c.Name),
		t.Quoted(), catalog.Ident(c.Name), kind, opts, sqlQuoteInner(seq.Name.Quoted()))))
}

// sqlQuoteInner doubles single quotes so the text can sit inside a literal.
func sqlQuoteInner(s string) string { return strings.ReplaceAll(s, "'", "''") }

// recreateColumnTriggers re-creates the triggers that name a closure column
// (UPDATE OF col, or WHEN on it): a trigger follows the column by number, so
// it would go on watching the retired column. Its definition names the
// column, so re-created it watches the live one.
func (b *builder) recreateColumnTriggers(s *stmts, w *tableWork) {
	for _, tr := range w.t.Triggers {
		if tr.Inherited || !b.usesClosure(w, tr.Columns) {
			continue
		}
		s.add("DROP TRIGGER %s ON %s", catalog.Ident(tr.Name), w.t.Name.Quoted())
		s.add("%s", tr.Def)
	}
}

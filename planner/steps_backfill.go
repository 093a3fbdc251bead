package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// backfillSteps copies old to shadow for the rows that existed before the
// trigger, leaf table by leaf table. The predicate "shadow IS DISTINCT FROM
// old" makes a batch that runs twice change nothing the second time.
func (b *builder) backfillSteps() {
	for _, w := range b.work {
		var sets, differs []string
		for _, m := range w.cols {
			s, o := catalog.Ident(shadowName(m.col.Name)), catalog.Ident(m.col.Name)
			sets = append(sets, s+" = "+o)
			differs = append(differs, s+" IS DISTINCT FROM "+o)
		}
		for _, l := range w.leaves {
			upd := "UPDATE " + only(l) + " SET " + strings.Join(sets, ", ") + " WHERE " + rangeSlot + " AND (" + strings.Join(differs, " OR ") + ")"
			bt := batches(l, walkOf(b.snap, l), upd)
			if bt == nil {
				continue // reported as a blocker
			}
			n := len(bt.Key)
			bt.FirstPass, bt.NextPass = bt.First+" AND "+passPredicate(n+1), bt.Next+" AND "+passPredicate(2*n+1)
			copyID := "backfill/copy/" + l.Name.String()
			b.add(Step{ID: copyID, Phase: Backfill, Table: l.Name, SQL: bt.NextPass,
				Batch: bt, Lock: RowExclusive, InTx: true,
				Note: "each batch in --hot-passes interleaved passes (default 4), each its own short transaction, the last one committed with the checkpoint"})
			b.add(Step{ID: "backfill/vacuum/" + l.Name.String(), Phase: Backfill, Table: l.Name, During: copyID,
				SQL: "VACUUM " + l.Name.Quoted(), Lock: ShareUpdateExclusive, InTx: false,
				Note: "between two batches, each time --vacuum-fraction of the table (default 0.1) has been copied and at the end, or every --vacuum-every N batches; a failure is logged and the copy goes on"})
		}
	}
	for i := range b.plan.Steps {
		if s := &b.plan.Steps[i]; s.Batch != nil && s.SQL == "" {
			s.SQL = s.Batch.Next
		}
	}
}

// passPredicate picks the rows of one pass of a batch, $p+1 of $p passes,
// by the row's slot on its page (its ctid's offset). The first pass moves
// its rows to other pages; once it has committed, the next pass's UPDATE
// prunes their dead versions on its way, and its new versions fit on their
// own pages: HOT updates, which log only the changed bytes and add no index
// entry. Without passes every page is full (fillfactor 100) when its rows
// are copied, and every row moves.
func passPredicate(p int) string {
	return fmt.Sprintf("((ctid::text::point)[1])::int %% $%d = $%d", p, p+1)
}

// verifySteps count rows whose two columns differ, where other names the
// column compared with the live one: before the swap the shadow, which
// must equal it; before a swap back the old column, which equals it only
// while its values fit the old type. The phase refuses unless every count
// is zero.
func (b *builder) verifySteps(other func(string) string, note string) {
	for _, w := range b.work {
		var differs []string
		for _, m := range w.cols {
			differs = append(differs, catalog.Ident(other(m.col.Name))+" IS DISTINCT FROM "+catalog.Ident(m.col.Name))
		}
		for _, l := range w.leaves {
			q := "SELECT count(*) FROM " + only(l) + " WHERE " + rangeSlot + " AND (" + strings.Join(differs, " OR ") + ")"
			bt := batches(l, walkOf(b.snap, l), q)
			if bt == nil {
				continue
			}
			b.add(Step{ID: string(b.phase) + "/verify/" + l.Name.String(), Phase: b.phase, Table: l.Name, SQL: bt.Next, Batch: bt,
				Lock: AccessShare, InTx: true, Note: note})
		}
	}
}

// rangeSlot marks where keyset puts the key range in a statement. A NUL
// byte cannot occur in an identifier, unlike "%s" ("100%" is a valid name).
const rangeSlot = "\x00"

// keyset renders the batch statements for a key; stmt has one rangeSlot
// where the key range goes.
func keyset(tab *catalog.Table, key []string, stmt string) *Batch {
	rel := only(tab)
	k := rowExpr(key)
	n := len(key)
	params := func(from int) string {
		p := make([]string, n)
		for i := range p {
			p[i] = fmt.Sprintf("$%d", from+i)
		}
		return rowOf(p)
	}
	order := catalog.Idents(key)
	// The bound comes back as text: the checkpoint stores it as text, and
	// PostgreSQL reads it back into the key's own type as a parameter. The
	// outer ORDER BY names b's columns: a bare name would sort the text.
	// The last column counts the batch's rows, for progress.
	desc := strings.Join(prefixEach("b.", suffixEach(key, " DESC")), ", ")
	bound := func(where string, limit int) string {
		return fmt.Sprintf("SELECT %s, count(*) OVER () FROM (SELECT %s FROM %s%s ORDER BY %s LIMIT $%d) b ORDER BY %s LIMIT 1",
			strings.Join(prefixEach("b.", suffixEach(key, "::text")), ", "), order, rel, where, order, limit, desc)
	}
	b := &Batch{
		Key:      key,
		Estimate: int64(max(tab.RowEstimate, 0)),
		// Qualified for the same reason as the bounds: ORDER BY must sort
		// the key, not its text.
		Last: fmt.Sprintf("SELECT %s FROM %s l ORDER BY %s LIMIT 1", strings.Join(prefixEach("l.", suffixEach(key, "::text")), ", "),
			rel, strings.Join(prefixEach("l.", suffixEach(key, " DESC")), ", ")),
		FirstBound: bound(" WHERE "+k+" <= "+params(1), n+1),
		NextBound:  bound(" WHERE "+k+" > "+params(1)+" AND "+k+" <= "+params(n+1), 2*n+1),
		First:      strings.Replace(stmt, rangeSlot, k+" <= "+params(1), 1),
		Next:       strings.Replace(stmt, rangeSlot, k+" > "+params(1)+" AND "+k+" <= "+params(n+1), 1),
	}
	sliceBy(b, tab, key)
	return b
}

// integerTypes are the types of a first key column a walk can be sliced
// by: their values split into ranges of equal width.
var integerTypes = map[string]bool{"smallint": true, "integer": true, "bigint": true}

// sliceBy renders the statements that find the bounds of a key walk's
// slices (Batch.Lowest, Batch.SliceBound), or says why there are none.
func sliceBy(b *Batch, tab *catalog.Table, key []string) {
	first := catalog.Ident(key[0])
	if c := tab.Column(key[0]); c == nil || !integerTypes[c.Type] {
		typ := "unknown"
		if c != nil {
			typ = c.Type
		}
		b.NoSlices = fmt.Sprintf("the key's first column %s is of type %s, not an integer: its values cannot be split in ranges of equal width", first, typ)
		return
	}
	rel := only(tab)
	b.Lowest = fmt.Sprintf("SELECT l.%s::bigint FROM %s l ORDER BY %s LIMIT 1", first, rel, strings.Join(prefixEach("l.", suffixEach(key, "")), ", "))
	b.SliceBound = fmt.Sprintf("SELECT %s FROM %s l WHERE l.%s <= $1::bigint ORDER BY %s LIMIT 1",
		strings.Join(prefixEach("l.", suffixEach(key, "::text")), ", "), rel, first, strings.Join(prefixEach("l.", suffixEach(key, " DESC")), ", "))
}

// rowExpr is the key as a row value for comparisons: "id" or ("a", "b").
func rowExpr(key []string) string {
	q := make([]string, len(key))
	for i, c := range key {
		q[i] = catalog.Ident(c)
	}
	return rowOf(q)
}

func rowOf(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return "(" + strings.Join(items, ", ") + ")"
}

func suffixEach(key []string, suffix string) []string {
	out := make([]string, len(key))
	for i, c := range key {
		out[i] = catalog.Ident(c) + suffix
	}
	return out
}

func prefixEach(prefix string, items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = prefix + s
	}
	return out
}

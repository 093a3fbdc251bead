package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// renames maps the closure columns of a table to the columns the copies
// are built on (the shadows, or the old columns before a swap back).
func (b *builder) renames(w *tableWork) map[string]string {
	m := map[string]string{}
	for _, c := range w.cols {
		m[c.col.Name] = b.onto.col(c.col.Name)
	}
	return m
}

// copyRule says onto what the cutover (or the swap back) builds its copies
// of indexes and constraints, and how it names them.
type copyRule struct {
	col  func(string) string
	name func(string) string
}

var (
	ontoShadow = copyRule{col: shadowName, name: newObject}
	ontoOld    = copyRule{col: oldName, name: backObject}
)

// closureIndexes lists the table's own (not partition-cloned) valid indexes
// that use a closure column anywhere: key, INCLUDE, expression or predicate.
func (b *builder) closureIndexes(w *tableWork) []catalog.Index {
	var out []catalog.Index
	for _, ix := range w.t.Indexes {
		if ix.ParentIndex == nil && ix.Valid && b.usesClosure(w, ix.Columns, ix.Include, ix.ExprColumns) {
			out = append(out, ix)
		}
	}
	return out
}

// indexSteps builds a copy of every index on the closure's columns that
// keep accepts, without blocking writes: every index for the cutover
// (allIndexes), only the indexes of key constraints for the rollback's
// swap back (keyIndexes). On a partitioned table an index cannot be built
// CONCURRENTLY: each partition's index is built concurrently instead, and
// either attached to an ON ONLY parent index or, for a key constraint,
// adopted when the swap adds the constraint on the parent.
func (b *builder) indexSteps(w *tableWork, keep func(catalog.Index) bool) error {
	for _, ix := range b.closureIndexes(w) {
		if !keep(ix) {
			continue
		}
		if w.t.Kind != "partitioned" {
			if err := b.concurrentIndex(w.t, ix, b.renames(w)); err != nil {
				return err
			}
			continue
		}
		if err := b.partitionedIndex(w, ix); err != nil {
			return err
		}
	}
	return nil
}

// allIndexes keeps every index: the cutover copies them all.
func allIndexes(catalog.Index) bool { return true }

// keyIndexes keeps the indexes of key constraints: the swap dropped them
// with their constraints from the old columns, and the swap back needs
// them again. Plain indexes of the old columns were kept, renamed.
func keyIndexes(ix catalog.Index) bool { return ix.Constraint != "" }

func (b *builder) concurrentIndex(t *catalog.Table, ix catalog.Index, rename map[string]string) error {
	name := catalog.QName{Schema: t.Name.Schema, Name: b.onto.name(ix.Name)}
	sql, err := rebuildIndex(t.Name, ix, "CONCURRENTLY ", name.Name, rename)
	if err != nil {
		return err
	}
	indexID := string(b.phase) + "/index/" + name.String()
	b.add(Step{ID: string(b.phase) + "/drop-invalid/" + name.String(), Phase: b.phase, Table: t.Name, During: indexID,
		SQL: "DROP INDEX CONCURRENTLY IF EXISTS " + name.Quoted(), Lock: ShareUpdateExclusive, InTx: false,
		Probe: probeNoInvalidIndex, ProbeArgs: []any{name.Quoted()},
		Note: "only when an interrupted build left the index INVALID: dropped before the build runs again"})
	b.add(Step{ID: indexID, Phase: b.phase, Table: t.Name, SQL: sql,
		Lock: ShareUpdateExclusive, InTx: false, Probe: probeIndex, ProbeArgs: []any{name.Quoted()},
		Note: "writes continue; an INVALID leftover of an interrupted build is dropped and rebuilt"})
	return nil
}

func (b *builder) partitionedIndex(w *tableWork, ix catalog.Index) error {
	tree, err := indexTree(b.snap, w.t, ix)
	if err != nil {
		return err
	}
	for _, pi := range tree {
		if pi.table.Kind != "partitioned" {
			if err := b.concurrentIndex(pi.table, *pi.ix, b.renames(w)); err != nil {
				return err
			}
		}
	}
	if ix.Constraint != "" {
		for _, pi := range tree {
			if pi.table.Kind == "partitioned" {
				return fmt.Errorf("constraint %s of %s is on a sub-partitioned table (%s), whose key constraints pgwiden cannot re-add without a scan under the swap's lock", ix.Constraint, w.t.Name, pi.table.Name)
			}
		}
		return nil // the swap's ADD CONSTRAINT on the parent adopts them
	}
	// Each parent index comes after its children so that a rollback, which
	// runs in reverse, drops it (and with it the attached children) first;
	// sub-partitions' parent indexes, deepest first, before the top one.
	for i := len(tree) - 1; i >= 0; i-- {
		if pi := tree[i]; pi.table.Kind == "partitioned" {
			if err := b.onlyIndex(w, pi.table, *pi.ix, tree); err != nil {
				return err
			}
		}
	}
	return b.onlyIndex(w, w.t, ix, tree)
}

// onlyIndex builds the copy of index ix of partitioned table t ON ONLY t,
// then attaches to it the copies of its partitions' indexes.
func (b *builder) onlyIndex(w *tableWork, t *catalog.Table, ix catalog.Index, tree []partIndex) error {
	parent := catalog.QName{Schema: t.Name.Schema, Name: b.onto.name(ix.Name)}
	sql, err := rebuildIndex(t.Name, ix, "", parent.Name, b.renames(w))
	if err != nil {
		return err
	}
	sql = strings.Replace(sql, " ON "+t.Name.Quoted(), " ON ONLY "+t.Name.Quoted(), 1)
	b.add(Step{ID: string(b.phase) + "/index/" + parent.String(), Phase: b.phase, Table: t.Name, SQL: sql,
		Lock: Share, InTx: true, Probe: probeIndexExists, ProbeArgs: []any{parent.Quoted()},
		Note: "ON ONLY: an empty parent index, valid once every partition's index is attached; no scan"})
	self := catalog.QName{Schema: t.Name.Schema, Name: ix.Name}
	for _, pi := range tree {
		if pi.parent != self {
			continue
		}
		child := catalog.QName{Schema: pi.table.Name.Schema, Name: b.onto.name(pi.ix.Name)}
		b.add(Step{ID: string(b.phase) + "/index-attach/" + child.String(), Phase: b.phase, Table: t.Name,
			SQL:  "ALTER INDEX " + parent.Quoted() + " ATTACH PARTITION " + child.Quoted(),
			Lock: ShareUpdateExclusive, InTx: true, Probe: probeIndexAttached, ProbeArgs: []any{child.Quoted()}})
	}
	return nil
}

// partIndex is the index of a partition attached to a parent index.
type partIndex struct {
	table  *catalog.Table
	ix     *catalog.Index
	parent catalog.QName // the index it is attached to
}

// indexTree lists the indexes attached to index ix of partitioned table t,
// directly or through a sub-partitioned partition's index, parents before
// their children.
func indexTree(snap *catalog.Snapshot, t *catalog.Table, ix catalog.Index) ([]partIndex, error) {
	var out []partIndex
	name := catalog.QName{Schema: t.Name.Schema, Name: ix.Name}
	for _, p := range t.Partitions {
		pt := snap.Table(p)
		if pt == nil {
			continue
		}
		lix := childIndex(pt, name)
		if lix == nil {
			return nil, fmt.Errorf("partition %s has no index attached to %s", pt.Name, ix.Name)
		}
		out = append(out, partIndex{table: pt, ix: lix, parent: name})
		if pt.Kind == "partitioned" {
			sub, err := indexTree(snap, pt, *lix)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
	}
	return out, nil
}

const (
	probeIndexExists   = `SELECT to_regclass($1) IS NOT NULL`
	probeIndexAttached = `SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1))`
)

// childIndex finds the index of partition l attached to parent index p.
func childIndex(l *catalog.Table, p catalog.QName) *catalog.Index {
	for i := range l.Indexes {
		if pi := l.Indexes[i].ParentIndex; pi != nil && *pi == p {
			return &l.Indexes[i]
		}
	}
	return nil
}

// rebuildIndex renders CREATE INDEX name for a copy of ix with its columns
// renamed, keeping method, opclasses, INCLUDE and predicate.
func rebuildIndex(t catalog.QName, ix catalog.Index, how, name string, rename map[string]string) (string, error) {
	tail, unique, err := indexTail(ix.Def)
	if err == nil {
		tail, err = renameIndexTail(tail, rename)
	}
	if err != nil {
		return "", fmt.Errorf("index %s: %w", ix.Name, err)
	}
	u := ""
	if unique {
		u = "UNIQUE "
	}
	return "CREATE " + u + "INDEX " + how + catalog.Ident(name) + " ON " + t.Quoted() + " " + tail, nil
}

// checkSteps copies CHECK constraints onto the shadow columns as NOT VALID,
// then validates them without blocking writes.
func (b *builder) checkSteps(w *tableWork) error {
	for _, con := range w.t.Constraints {
		if con.Type != catalog.ConCheck || con.Inherited || !b.usesClosure(w, con.Columns) {
			continue
		}
		def, err := renameColumns(strings.TrimSuffix(con.Def, " NOT VALID"), b.renames(w))
		if err != nil {
			return fmt.Errorf("constraint %s: %w", con.Name, err)
		}
		b.addConstraint(w.t.Name, b.onto.name(con.Name), def, con.Validated, nil)
	}
	return nil
}

// addConstraint adds a constraint NOT VALID and, if the original was
// validated, validates it in a separate step (SHARE UPDATE EXCLUSIVE).
// A foreign key locks its referenced table too: parent first, the order
// the application locks them in (UPDATE the parent, INSERT the child), or
// the two deadlock and PostgreSQL may abort the application's transaction.
func (b *builder) addConstraint(t catalog.QName, name, def string, validate bool, ref *catalog.QName) {
	id := t.String() + "." + name
	lock := AccessExclusive
	if ref != nil {
		lock = ShareRowExclusive
	}
	b.add(Step{ID: string(b.phase) + "/constraint/" + id, Phase: b.phase, Table: t,
		SQL:  lockParentFirst(ref, t) + "ALTER TABLE " + t.Quoted() + " ADD CONSTRAINT " + catalog.Ident(name) + " " + def + " NOT VALID",
		Lock: lock, InTx: true, Probe: probeCon, ProbeArgs: []any{t.Quoted(), name}, Note: "NOT VALID: no scan while the lock is held"})
	if validate {
		b.add(Step{ID: string(b.phase) + "/validate/" + id, Phase: b.phase, Table: t,
			SQL:  "ALTER TABLE " + t.Quoted() + " VALIDATE CONSTRAINT " + catalog.Ident(name),
			Lock: ShareUpdateExclusive, InTx: true, Probe: probeConValid, ProbeArgs: []any{t.Quoted(), name},
			Note: "scans the table; reads and writes continue"})
	}
}

// lockParentFirst is the LOCK TABLE that makes a statement on a child take
// the parent's lock first; empty for a self-reference or no parent.
func lockParentFirst(parent *catalog.QName, child catalog.QName) string {
	if parent == nil || *parent == child {
		return ""
	}
	return "LOCK TABLE " + parent.Quoted() + " IN SHARE ROW EXCLUSIVE MODE;\n"
}

// fkDef renders a foreign key with the closure columns on either side
// renamed by to (to their shadows, or back to the old columns); the other
// columns stay.
func (b *builder) fkDef(fk fkRef, to func(string) string) (string, error) {
	tail, err := fkTail(fk.con.Def)
	if err != nil {
		return "", fmt.Errorf("constraint %s: %w", fk.con.Name, err)
	}
	side := func(t catalog.QName, cols []string) string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = c
			if b.in[catalog.ColumnRef{Table: t, Column: c}] {
				out[i] = to(c)
			}
		}
		return catalog.Idents(out)
	}
	return "FOREIGN KEY (" + side(fk.table.Name, fk.con.Columns) + ") REFERENCES " + fk.con.RefTable.Quoted() +
		"(" + side(*fk.con.RefTable, fk.con.RefColumns) + ")" + tail, nil
}

// fkSteps adds every affected foreign key on the new columns ahead of the
// swap, NOT VALID and then validated. PostgreSQL before 18 refuses NOT
// VALID foreign keys on a partitioned table, so there each leaf partition
// gets its own, which the swap's constraint on the parent then adopts.
// A key referencing a partitioned table's key can only be added once the
// swap has created that key's constraint: it is added inside the swap and
// validated after it.
func (b *builder) fkSteps() error {
	for _, fk := range b.fks {
		if b.fkInSwap(fk) {
			continue
		}
		def, err := b.fkDef(fk, b.onto.col)
		if err != nil {
			return err
		}
		if fk.table.Kind != "partitioned" {
			b.addConstraint(fk.table.Name, b.onto.name(fk.con.Name), def, fk.con.Validated, fk.con.RefTable)
			continue
		}
		for _, l := range leaves(b.snap, fk.table) {
			b.addConstraint(l.Name, b.onto.name(fk.con.Name), def, fk.con.Validated, fk.con.RefTable)
		}
	}
	return nil
}

// refPartitioned reports whether fk references closure columns of a
// partitioned table.
func (b *builder) refPartitioned(fk fkRef) bool {
	ref := b.snap.Table(*fk.con.RefTable)
	return ref != nil && ref.Kind == "partitioned" && slices.ContainsFunc(fk.con.RefColumns, func(c string) bool {
		return b.in[catalog.ColumnRef{Table: ref.Name, Column: c}]
	})
}

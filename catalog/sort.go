package catalog

import (
	"cmp"
	"slices"
)

// sortSnapshot puts every list of s in a fixed order, so that two Loads of
// an unchanged database give byte-identical JSON whatever order the server
// returned rows in. Lists whose order means something are left alone:
// columns go by number, key columns and FK columns keep their key order,
// and InheritsFrom keeps the order of the INHERITS clause.
func sortSnapshot(s *Snapshot) {
	slices.SortFunc(s.Tables, func(a, b Table) int { return compareQName(a.Name, b.Name) })
	for i := range s.Tables {
		sortTable(&s.Tables[i])
	}
	slices.SortFunc(s.Sequences, func(a, b Sequence) int { return compareQName(a.Name, b.Name) })
	slices.SortFunc(s.Views, func(a, b View) int {
		return cmp.Or(
			compareQName(a.Name, b.Name),
			cmp.Compare(a.Kind, b.Kind),
			compareQName(orZero(a.RuleTable), orZero(b.RuleTable)),
		)
	})
}

// sortTable orders the lists of one table.
func sortTable(t *Table) {
	slices.SortFunc(t.Columns, func(a, b Column) int { return cmp.Compare(a.Num, b.Num) })
	// Names are unique per table; the definition only guards against a
	// catalog that breaks that, so the order never depends on the server.
	slices.SortFunc(t.Constraints, func(a, b Constraint) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Def, b.Def))
	})
	slices.SortFunc(t.Indexes, func(a, b Index) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(t.Triggers, func(a, b Trigger) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(t.Policies, func(a, b Policy) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(t.Partitions, compareQName)
	slices.SortFunc(t.InheritedBy, compareQName)
	slices.Sort(t.Publications)
}

// compareQName orders names by schema, then name, bytewise (as the "C"
// collation of PostgreSQL's name type does).
func compareQName(a, b QName) int {
	return cmp.Or(cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Name, b.Name))
}

// orZero returns *q, or the zero QName for nil.
func orZero(q *QName) QName {
	if q == nil {
		return QName{}
	}
	return *q
}

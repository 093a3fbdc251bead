package audit

import (
	"math"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// Candidate is an object worth auditing and where to read its value.
type Candidate struct {
	Object   string
	Kind     string
	Type     string
	Sequence *catalog.QName // feeding sequence, for KindColumn
	Limit    int64
	Source   Source
	// ViaRef is set when Source is the referenced key's, not the column's.
	ViaRef bool
	Note   string
	// Target is the column itself, for column kinds: what widening it
	// means (its closure) estimates the migration's duration.
	Target *planner.Target
	// Runway is the feeding sequence when it is on the emergency runway.
	Runway *catalog.Sequence
}

// Source is where a candidate's current value is read. Exactly one of
// Sequence or Table is set; neither means the value is unknown.
type Source struct {
	Sequence *catalog.QName
	// Table and Column: max(Column) through an index leading with Column.
	Table  *catalog.QName
	Column string
}

// skipSchemas hold no user keys, or only pgwiden's own small tables.
var skipSchemas = map[string]bool{"pg_catalog": true, "information_schema": true, "pg_toast": true, "pgwiden": true}

// Candidates lists what Scan reads, in catalog order. Partitions are left
// out: their partitioned parent stands for them.
func Candidates(snap *catalog.Snapshot) []Candidate {
	var out []Candidate
	folded := map[catalog.QName]bool{} // sequences reported with their column
	feeds := map[catalog.QName][]string{}
	for i := range snap.Tables {
		t := &snap.Tables[i]
		if skipSchemas[t.Name.Schema] || t.PartitionOf != nil {
			continue
		}
		for j := range t.Columns {
			c := &t.Columns[j]
			if c.Sequence != nil {
				feeds[*c.Sequence] = append(feeds[*c.Sequence], t.Name.String()+"."+c.Name+" ("+c.Type+")")
			}
			if cand, ok := columnCandidate(snap, t, c); ok {
				out = append(out, cand)
				if c.Sequence != nil {
					folded[*c.Sequence] = true
				}
			}
		}
	}
	for i := range snap.Sequences {
		s := &snap.Sequences[i]
		if skipSchemas[s.Name.Schema] || folded[s.Name] || !narrowSequence(s) {
			continue
		}
		name := s.Name
		cand := Candidate{Object: name.String(), Kind: KindSequence, Type: s.DataType, Limit: seqLimit(s), Source: Source{Sequence: &name}}
		if s.OnRunway() {
			cand.Runway = s
		}
		if f := feeds[name]; len(f) > 0 {
			cand.Note = "feeds " + strings.Join(f, ", ")
		}
		out = append(out, cand)
	}
	return out
}

// columnCandidate decides whether column c of t is audited, and how.
func columnCandidate(snap *catalog.Snapshot, t *catalog.Table, c *catalog.Column) (Candidate, bool) {
	typeMax, ok := catalog.TypeMax(c.Type)
	if !ok || !catalog.IsNarrowInt(c.Type) {
		return Candidate{}, false
	}
	ref, isFK := foreignKeys(t)[c.Name]
	if c.Sequence == nil && !isFK && !keyColumns(t)[c.Name] {
		return Candidate{}, false
	}
	cand := Candidate{Object: t.Name.String() + "." + c.Name, Kind: KindColumn, Type: c.Type, Limit: typeMax, Sequence: c.Sequence,
		Target: &planner.Target{Table: t.Name, Column: c.Name}}
	if c.Sequence != nil {
		cand.Source = Source{Sequence: c.Sequence}
		if s := snap.Sequence(*c.Sequence); s != nil {
			if s.OnRunway() {
				cand.Runway = s
			}
			if s.Increment < 0 {
				cand.Limit = max(-typeMax-1, seqLimit(s))
			} else {
				cand.Limit = min(typeMax, seqLimit(s))
			}
		}
		return cand, true
	}
	if isFK {
		// A child's newest values are its parent's newest ids, so the
		// parent's value (and growth) is the one that matters.
		if src, ok := sourceOf(snap, ref, 0); ok {
			cand.Source, cand.ViaRef = src, true
			cand.Note = "value of referenced " + ref.Table.String() + "." + ref.Column
		}
		if pt := snap.Table(ref.Table); pt != nil {
			if pc := pt.Column(ref.Column); pc != nil {
				if pm, ok := catalog.TypeMax(pc.Type); ok && pm > typeMax {
					cand.Kind = KindFKToWiderKey
					if cand.ViaRef {
						cand.Note += " (" + pc.Type + ")"
					}
				}
			}
		}
		if cand.Source != (Source{}) {
			return cand, true
		}
	}
	if t.IndexLeadsWith(c.Name) {
		name := t.Name
		cand.Source = Source{Table: &name, Column: c.Name}
	} else if cand.Note == "" {
		cand.Note = "unknown (no index)"
	}
	return cand, true
}

// sourceOf finds where the value of ref can be read: its sequence, an index
// leading with it, or, for a key that is itself a foreign key, its parent.
func sourceOf(snap *catalog.Snapshot, ref catalog.ColumnRef, depth int) (Source, bool) {
	t := snap.Table(ref.Table)
	if t == nil || depth > 8 {
		return Source{}, false
	}
	c := t.Column(ref.Column)
	switch {
	case c == nil:
		return Source{}, false
	case c.Sequence != nil:
		return Source{Sequence: c.Sequence}, true
	case t.IndexLeadsWith(c.Name):
		name := t.Name
		return Source{Table: &name, Column: c.Name}, true
	}
	if up, ok := foreignKeys(t)[c.Name]; ok {
		return sourceOf(snap, up, depth+1)
	}
	return Source{}, false
}

// keyColumns lists the columns of primary keys, unique constraints and
// unique indexes of t.
func keyColumns(t *catalog.Table) map[string]bool {
	keys := map[string]bool{}
	for _, con := range t.Constraints {
		if con.Type == catalog.ConPrimary || con.Type == catalog.ConUnique {
			for _, c := range con.Columns {
				keys[c] = true
			}
		}
	}
	for _, ix := range t.Indexes {
		if ix.Unique && ix.Valid {
			for _, c := range ix.Columns {
				keys[c] = true
			}
		}
	}
	return keys
}

// foreignKeys maps each foreign key column of t to the column it references
// (the first foreign key wins when a column is in several).
func foreignKeys(t *catalog.Table) map[string]catalog.ColumnRef {
	refs := map[string]catalog.ColumnRef{}
	for _, con := range t.Constraints {
		if con.Type != catalog.ConForeign || con.RefTable == nil || len(con.RefColumns) != len(con.Columns) {
			continue
		}
		for i, c := range con.Columns {
			if _, seen := refs[c]; !seen {
				refs[c] = catalog.ColumnRef{Table: *con.RefTable, Column: con.RefColumns[i]}
			}
		}
	}
	return refs
}

// narrowSequence reports whether s stops at or below the int4 range.
func narrowSequence(s *catalog.Sequence) bool {
	if catalog.IsNarrowInt(s.DataType) {
		return true
	}
	if s.Increment < 0 {
		return s.Min >= math.MinInt32
	}
	return s.Max <= math.MaxInt32
}

// seqLimit is the last value s hands out: its max, or its min when it
// counts down.
func seqLimit(s *catalog.Sequence) int64 {
	if s.Increment < 0 {
		return s.Min
	}
	return s.Max
}

package planner

import (
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// swapIndexes puts the new indexes in place under the original names. Key
// constraints are re-added on their new index (USING INDEX, no scan). On a
// partitioned table each partition's key constraint is re-added that way
// first, so that the constraint then added on the parent adopts them (it
// only adopts a partition index that already backs a constraint; any other
// it would rebuild, under the lock).
func (b *builder) swapIndexes(s *stmts, w *tableWork, d direction) {
	t := w.t.Name
	for _, ix := range b.closureIndexes(w) {
		con := findConstraint(w.t, ix.Constraint)
		if con == nil {
			renameIndex(s, t.Schema, ix.Name, d)
		}
		if w.t.Kind == "partitioned" {
			tree, _ := indexTree(b.snap, w.t, ix) // an error was a blocker at indexSteps
			for _, pi := range tree {
				if con == nil {
					renameIndex(s, pi.table.Name.Schema, pi.ix.Name, d)
				} else {
					addKeyUsingIndex(s, pi.table.Name, pi.ix.Constraint, con, d.copy(pi.ix.Name))
				}
			}
			if con != nil {
				s.add("ALTER TABLE %s ADD CONSTRAINT %s %s", t.Quoted(), catalog.Ident(con.Name), con.Def)
			}
			continue
		}
		if con != nil {
			addKeyUsingIndex(s, t, con.Name, con, d.copy(ix.Name))
		}
	}
}

// renameIndex gives the promoted column's index the original name and
// keeps the other under its spare name.
func renameIndex(s *stmts, schema, name string, d direction) {
	s.add("ALTER INDEX %s RENAME TO %s", qn(schema, name), catalog.Ident(d.spare(name)))
	s.add("ALTER INDEX %s RENAME TO %s", qn(schema, d.promoted(name)), catalog.Ident(name))
}

// addKeyUsingIndex re-adds a primary key or unique constraint of the kind
// of con on an existing unique index, which takes the constraint's name.
func addKeyUsingIndex(s *stmts, t catalog.QName, name string, con *catalog.Constraint, index string) {
	kind := "PRIMARY KEY"
	if con.Type == catalog.ConUnique {
		kind = "UNIQUE"
	}
	s.add("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s%s", t.Quoted(), catalog.Ident(name), kind, catalog.Ident(index), deferrable(con.Def))
}

func qn(schema, name string) string { return catalog.QName{Schema: schema, Name: name}.Quoted() }

func findConstraint(t *catalog.Table, name string) *catalog.Constraint {
	if name == "" {
		return nil
	}
	for i := range t.Constraints {
		if t.Constraints[i].Name == name {
			return &t.Constraints[i]
		}
	}
	return nil
}

// deferrable returns the DEFERRABLE clause of a constraint definition.
func deferrable(def string) string {
	if i := strings.Index(def, " DEFERRABLE"); i >= 0 {
		return def[i:]
	}
	return ""
}

// swapFKs gives the foreign keys built ahead of the swap their original
// names, adds the partitioned parents' keys (adopting the partitions'
// validated ones), and adds, NOT VALID, the keys that reference a
// partitioned table's key, which only exists from this transaction on.
func (b *builder) swapFKs(s *stmts, d direction) error {
	for _, fk := range b.fks {
		t, name := fk.table.Name.Quoted(), catalog.Ident(fk.con.Name)
		// Its definition names columns, which from here on are the
		// promoted ones in either direction: the catalog's text serves.
		def := strings.TrimSuffix(fk.con.Def, " NOT VALID")
		switch {
		case b.fkInSwap(fk):
			s.add("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", t, name, def)
		case fk.table.Kind == "partitioned":
			for _, l := range leaves(b.snap, fk.table) {
				s.add("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", l.Name.Quoted(), catalog.Ident(d.copy(fk.con.Name)), name)
			}
			s.add("ALTER TABLE %s ADD CONSTRAINT %s %s", t, name, def)
		default:
			s.add("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", t, catalog.Ident(d.copy(fk.con.Name)), name)
		}
	}
	return nil
}

// validateDeferredFKs validates, after a swap, the keys added inside it.
func (b *builder) validateDeferredFKs(phase Phase, prefix string) {
	for _, fk := range b.fks {
		if b.fkInSwap(fk) && fk.con.Validated {
			t := fk.table.Name
			b.add(Step{ID: prefix + t.String() + "." + fk.con.Name, Phase: phase, Table: t,
				SQL:  "ALTER TABLE " + t.Quoted() + " VALIDATE CONSTRAINT " + catalog.Ident(fk.con.Name),
				Lock: ShareUpdateExclusive, InTx: true, Probe: probeConValid, ProbeArgs: []any{t.Quoted(), fk.con.Name},
				Note: "scans the table; reads and writes continue"})
		}
	}
}

// dropViews drops dependent views and rules, last first.
func (b *builder) dropViews(s *stmts) {
	for i := len(b.views) - 1; i >= 0; i-- {
		v := b.views[i]
		switch v.Kind {
		case "rule":
			s.add("DROP RULE %s ON %s", catalog.Ident(v.Name.Name), v.RuleTable.Quoted())
		case "materialized view":
			s.add("DROP MATERIALIZED VIEW %s", v.Name.Quoted())
		default:
			s.add("DROP VIEW %s", v.Name.Quoted())
		}
	}
}

// createViews re-creates them from their definitions, which name columns,
// so they now read the new ones, and restores what CREATE VIEW does not
// carry over: options, check option, owner, comment and grants.
func (b *builder) createViews(s *stmts) {
	for _, v := range b.views {
		def := strings.TrimSuffix(strings.TrimSpace(v.Definition), ";")
		if v.Kind == "rule" {
			s.add("%s", def)
			continue
		}
		kind := "VIEW"
		with, check := viewOptions(v.Options)
		if v.Kind == "materialized view" {
			// Empty: computing it here would run its query while the
			// tables are locked. refreshSteps fills it after the swap.
			kind, check = "MATERIALIZED VIEW", "\nWITH NO DATA"
		}
		s.add("CREATE %s %s%s AS\n%s%s", kind, v.Name.Quoted(), with, def, check)
		for _, ix := range v.Indexes {
			s.add("%s", ix) // rendered and quoted by the server (catalog)
		}
		if v.Owner != "" && v.Owner != b.snap.CurrentUser {
			s.add("ALTER %s %s OWNER TO %s", kind, v.Name.Quoted(), catalog.Ident(v.Owner))
		}
		if v.Comment != "" {
			s.add("COMMENT ON %s %s IS %s", kind, v.Name.Quoted(), literal(v.Comment))
		}
		for _, g := range v.Grants {
			s.add("%s", g) // rendered and quoted by the server (catalog)
		}
	}
}

// viewOptions splits a view's reloptions into a WITH (...) clause and the
// check option, which CREATE VIEW takes at the end instead.
func viewOptions(opts []string) (with, check string) {
	var keep []string
	for _, o := range opts {
		switch o {
		case "check_option=cascaded":
			check = "\nWITH CASCADED CHECK OPTION"
		case "check_option=local":
			check = "\nWITH LOCAL CHECK OPTION"
		default:
			keep = append(keep, o)
		}
	}
	if len(keep) > 0 {
		with = " WITH (" + strings.Join(keep, ", ") + ")"
	}
	return with, check
}

// literal quotes a string as an SQL literal (standard_conforming_strings).
func literal(s string) string { return "'" + sqlQuoteInner(s) + "'" }

// syncFunction points the sync trigger at the new pair of columns. After
// the forward swap the old column follows the new one, so a rollback after
// cutover finds it current; values beyond the old type's range become NULL,
// and such a rollback refuses. After the swap back, the shadow follows the
// old column again, as after prepare.
func (b *builder) syncFunction(s *stmts, w *tableWork, d direction) {
	var body strings.Builder
	for _, m := range w.cols {
		col := catalog.Ident(m.col.Name)
		if d == backward {
			body.WriteString("  NEW." + catalog.Ident(shadowName(m.col.Name)) + " := NEW." + col + ";\n")
			continue
		}
		limit, _ := catalog.TypeMax(m.col.Type)
		body.WriteString("  NEW." + catalog.Ident(oldName(m.col.Name)) + " := CASE WHEN NEW." + col +
			" BETWEEN " + itoa(-limit-1) + " AND " + itoa(limit) + " THEN NEW." + col + " END;\n")
	}
	s.add("%s", syncFunctionSQL(syncFunction(w.t.Name), body.String()))
}

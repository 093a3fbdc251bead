package planner

import (
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// carryInSwap moves, inside the swap transaction, what follows a column
// by number and must be on the live column at the instant it takes the
// name: privileges (a role granted SELECT (col) must never find a column
// it may not read), comments and security labels, then the names of the
// extended statistics copies and the publications' column lists. The
// retired column keeps its own privileges, comment, labels and settings
// until cleanup drops it, so the swap back only has to exchange the
// statistics names and re-add the publications.
func (b *builder) carryInSwap(s *stmts, d direction) {
	for _, w := range b.work {
		if d == forward {
			b.closureMeta(w, func(rel *catalog.Table, col string, m *catalog.ColumnMeta) {
				b.carryColumnMeta(s, rel, col, m)
			})
		}
		for _, rel := range b.rels(w) {
			for _, st := range b.carriedStatistics(w, rel) {
				s.add("ALTER STATISTICS %s RENAME TO %s", st.Name.Quoted(), catalog.Ident(d.spare(st.Name.Name)))
				s.add("ALTER STATISTICS %s RENAME TO %s", qn(st.Name.Schema, d.promoted(st.Name.Name)), catalog.Ident(st.Name.Name))
			}
			for _, pt := range b.carriedPublications(w, rel) {
				b.republish(s, w, rel, pt, d)
			}
		}
	}
}

// carryColumnMeta renders the comment, labels and grants of one column.
func (b *builder) carryColumnMeta(s *stmts, rel *catalog.Table, col string, m *catalog.ColumnMeta) {
	name := columnName(rel.Name, col)
	if m.Comment != "" {
		s.add("COMMENT ON COLUMN %s IS %s", name, literal(m.Comment))
		b.carried(rel.Name, col, "comment", swapID, (*s)[len(*s)-1])
	}
	for _, l := range m.Labels {
		s.add("SECURITY LABEL FOR %s ON COLUMN %s IS %s", catalog.Ident(l.Provider), name, literal(l.Label))
		b.carried(rel.Name, col, "security label of provider "+l.Provider, swapID, (*s)[len(*s)-1])
	}
	for _, g := range grantStatements(rel, col, m.Grants) {
		s.add("%s", g.sql) // listed with prepare's grants to the shadow
	}
}

const swapID = "cutover/swap"

// republish drops the table from the publication and adds it back with
// its column list and row filter, whose names now mean the promoted
// columns. The publication's other tables are left alone (SET TABLE
// would replace them all).
func (b *builder) republish(s *stmts, w *tableWork, rel *catalog.Table, pt catalog.PublishedTable, d direction) {
	add := "ALTER PUBLICATION " + catalog.Ident(pt.Publication) + " ADD TABLE " + rel.Name.Quoted()
	if pt.Columns != nil {
		add += " (" + catalog.Idents(pt.Columns) + ")"
	}
	if pt.RowFilter != "" {
		add += " WHERE (" + pt.RowFilter + ")"
	}
	s.add("ALTER PUBLICATION %s DROP TABLE %s", catalog.Ident(pt.Publication), rel.Name.Quoted())
	s.add("%s", add)
	if d == forward {
		for _, c := range pt.DependsOn {
			if b.usesClosure(w, []string{c}) {
				b.carried(rel.Name, c, "column list or row filter of publication "+pt.Publication, swapID, add)
			}
		}
	}
}

// grant is one rendered GRANT with what it carries, for the plan's list.
type grant struct{ what, sql string }

// grantStatements re-issues a column's privileges as recorded: grouped
// per grantor, grantee and grant option, the owner's first, then each
// grant by a role once that role holds the grant option it needs. A grant
// recorded as made by a role other than the owner is made as that role
// (SET LOCAL ROLE), so a later REVOKE ... CASCADE by its grantor still
// reaches it.
func grantStatements(rel *catalog.Table, col string, grants []catalog.ColumnGrant) []grant {
	type key struct {
		grantor, grantee string
		grantable        bool
	}
	var order []key
	privs := map[key][]string{}
	for _, g := range grants {
		k := key{g.Grantor, g.Grantee, g.Grantable}
		if privs[k] == nil {
			order = append(order, k)
		}
		privs[k] = append(privs[k], g.Privilege)
	}
	// holds[role][privilege]: role may grant privilege on the column.
	holds := map[string]map[string]bool{rel.Owner: nil}
	may := func(k key) bool {
		if k.grantor == rel.Owner {
			return true
		}
		for _, p := range privs[k] {
			if !holds[k.grantor][p] {
				return false
			}
		}
		return true
	}
	var out []grant
	emit := func(k key) {
		out = append(out, renderGrant(rel, col, k.grantor, k.grantee, k.grantable, privs[k]))
		if k.grantable {
			if holds[k.grantee] == nil {
				holds[k.grantee] = map[string]bool{}
			}
			for _, p := range privs[k] {
				holds[k.grantee][p] = true
			}
		}
	}
	for len(order) > 0 {
		var later []key
		for _, k := range order {
			if may(k) {
				emit(k)
			} else {
				later = append(later, k)
			}
		}
		if len(later) == len(order) {
			// No chain leads to them (a catalog PostgreSQL keeps never
			// holds such grants): the recorded order is all there is.
			for _, k := range later {
				emit(k)
			}
			break
		}
		order = later
	}
	return out
}

func renderGrant(rel *catalog.Table, col, grantor, grantee string, grantable bool, privs []string) grant {
	list := make([]string, len(privs))
	for i, p := range privs {
		list[i] = p + " (" + catalog.Ident(col) + ")"
	}
	to := "PUBLIC"
	if grantee != "" {
		to = catalog.Ident(grantee)
	}
	sql := "GRANT " + strings.Join(list, ", ") + " ON TABLE " + rel.Name.Quoted() + " TO " + to
	if grantable {
		sql += " WITH GRANT OPTION"
	}
	what := "privilege " + strings.Join(privs, ", ") + " to " + to
	if grantable {
		what += " with grant option"
	}
	if grantor != rel.Owner {
		// Made as the grantor, then back to pgwiden's own role.
		sql = "SET LOCAL ROLE " + catalog.Ident(grantor) + ";\nGRANT" + strings.TrimPrefix(sql, "GRANT") + ";\nRESET ROLE"
		what += ", granted by " + grantor
	}
	return grant{what: what, sql: sql}
}

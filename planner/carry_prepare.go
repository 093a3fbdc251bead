package planner

// shadowGrants renders the statements that give each shadow column of w
// (of the table and of each partition) the privileges of its column, as
// recorded. They run in the transaction that adds the shadow columns: a
// role holding privileges on every column of a table may read it with
// SELECT *, which would fail on a column it may not read, from prepare to
// cleanup (the retired column keeps its own). A role that may write a
// shadow column this way changes nothing: the sync trigger overwrites it
// with the column's value on every write, and the backfill copies every
// row that differs. The swap re-issues the grants on the columns that take
// the names, in its own transaction, whatever happened to them since.
func (b *builder) shadowGrants(w *tableWork) string {
	id := "prepare/add-shadow/" + w.t.Name.String()
	var s stmts
	for _, rel := range b.rels(w) {
		for _, m := range w.cols {
			c := rel.Column(m.col.Name)
			if c == nil || c.Meta == nil {
				continue
			}
			for _, g := range grantStatements(rel, shadowName(c.Name), c.Meta.Grants) {
				s.add("%s", g.sql)
				b.carried(rel.Name, c.Name, g.what+" (again on the column that takes the name in "+swapID+")", id, g.sql)
			}
		}
	}
	if len(s) == 0 {
		return ""
	}
	return ";\n" + s.String()
}

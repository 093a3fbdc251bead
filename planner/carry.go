package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// Carry is one thing PostgreSQL attaches to a closure column by its
// attribute number, which the new column would not have: a privilege, a
// comment, a statistics setting, an extended statistics object, a
// publication's column list. `plan` lists each with the statement that
// carries it and the step that statement belongs to.
type Carry struct {
	Column catalog.ColumnRef `json:"column"`
	What   string            `json:"what"`
	Step   string            `json:"step"`
	SQL    string            `json:"sql"`
}

// carried records one Carry for the plan's list.
func (b *builder) carried(rel catalog.QName, col, what, step, sql string) {
	b.plan.Carried = append(b.plan.Carried, Carry{Column: catalog.ColumnRef{Table: rel, Column: col}, What: what, Step: step, SQL: sql})
}

// rels returns a closure table and every partition under it, at any
// depth: each has its own copy of the column, with its own privileges,
// comment and settings, renamed with the parent's.
func (b *builder) rels(w *tableWork) []*catalog.Table {
	out := []*catalog.Table{w.t}
	for i := 0; i < len(out); i++ {
		for _, p := range out[i].Partitions {
			if pt := b.snap.Table(p); pt != nil {
				out = append(out, pt)
			}
		}
	}
	return out
}

// closureMeta calls f for each closure column of each relation of w that
// has something attached.
func (b *builder) closureMeta(w *tableWork, f func(rel *catalog.Table, col string, m *catalog.ColumnMeta)) {
	for _, rel := range b.rels(w) {
		for _, mem := range w.cols {
			if c := rel.Column(mem.col.Name); c != nil && c.Meta != nil {
				f(rel, c.Name, c.Meta)
			}
		}
	}
}

// carriedStatistics lists the extended statistics objects of rel that use
// a closure column of w.
func (b *builder) carriedStatistics(w *tableWork, rel *catalog.Table) []catalog.Statistics {
	return usingClosure(b, w, rel.Statistics, func(st catalog.Statistics) []string { return st.Columns })
}

// carriedPublications lists rel's publication memberships whose column
// list or row filter uses a closure column of w.
func (b *builder) carriedPublications(w *tableWork, rel *catalog.Table) []catalog.PublishedTable {
	return usingClosure(b, w, rel.PublishedColumns, func(pt catalog.PublishedTable) []string { return pt.DependsOn })
}

// usingClosure returns the items whose columns include a closure column
// of w, in a new slice.
func usingClosure[T any](b *builder, w *tableWork, items []T, cols func(T) []string) []T {
	var out []T
	for _, it := range items {
		if b.usesClosure(w, cols(it)) {
			out = append(out, it)
		}
	}
	return out
}

// checkCarry records what cannot be carried by the current user: a grant
// made by a role it cannot act as, a publication it does not own.
func (b *builder) checkCarry() {
	for _, w := range b.work {
		b.closureMeta(w, func(rel *catalog.Table, col string, m *catalog.ColumnMeta) {
			for _, g := range m.Grants {
				if g.Grantor != rel.Owner && !g.AsGrantor {
					b.finds.block("column-grant-grantor", rel.Name.String()+"."+col,
						fmt.Sprintf("%s on the column was granted by %q, which the swap must re-grant as that role, and %q cannot SET ROLE %s", g.Privilege, g.Grantor, b.snap.CurrentUser, catalog.Ident(g.Grantor)),
						fmt.Sprintf("run pgwiden as a superuser or a member of role %q", g.Grantor))
				}
			}
		})
		for _, rel := range b.rels(w) {
			for _, pt := range b.carriedPublications(w, rel) {
				if !pt.Owned {
					b.finds.block("publication-owner", "publication "+pt.Publication,
						fmt.Sprintf("its column list or row filter for %s uses a closure column; the swap must re-add the table with ALTER PUBLICATION, which needs the publication's owner", rel.Name),
						"run pgwiden as a superuser or a member of the publication's owner")
				}
			}
		}
	}
}

// optionList renders attribute options ("n_distinct=500") for SET (...):
// the key as an identifier, the value as a literal.
func optionList(opts []string) string {
	out := make([]string, len(opts))
	for i, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		out[i] = catalog.Ident(k) + " = " + literal(v)
	}
	return strings.Join(out, ", ")
}

// columnName renders rel.col for COMMENT ON COLUMN and SECURITY LABEL.
func columnName(rel catalog.QName, col string) string { return rel.Quoted() + "." + catalog.Ident(col) }

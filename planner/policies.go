package planner

import "github.com/pgwiden/pgwiden/catalog"

// policyRef is a row-level security policy that reads a closure column.
// Like a view, a policy follows the column by number: the swap drops it
// and re-creates it from its definition, which names the column, so it
// reads the live column afterwards (and cleanup can drop the old one).
type policyRef struct {
	table catalog.QName
	pol   catalog.Policy
}

// closurePolicies lists the policies of the closure's tables and their
// partitions that read a closure column.
func (b *builder) closurePolicies() []policyRef {
	var out []policyRef
	for _, w := range b.work {
		for _, u := range w.units() {
			for _, p := range u.t.Policies {
				if p.Def != "" && b.usesClosure(u, p.Columns) {
					out = append(out, policyRef{table: u.t.Name, pol: p})
				}
			}
		}
	}
	return out
}

// dropPolicies drops them first in the swap: a policy may read a view the
// swap drops next.
func (b *builder) dropPolicies(s *stmts) {
	for _, p := range b.closurePolicies() {
		s.add("DROP POLICY %s ON %s", catalog.Ident(p.pol.Name), p.table.Quoted())
	}
}

// createPolicies re-creates them last, once the views are back.
func (b *builder) createPolicies(s *stmts) {
	for _, p := range b.closurePolicies() {
		s.add("%s", p.pol.Def) // rendered and quoted by the server (catalog)
	}
}

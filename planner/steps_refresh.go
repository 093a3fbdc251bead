package planner

// refreshSteps fill, right after a swap, the materialized views it
// re-created empty (those that held data before). REFRESH runs the view's
// query with the view locked, as a DBA's own refresh does, but no table of
// the closure stays locked meanwhile. Scan: the query may run longer than
// a catalog change is allowed to.
func (b *builder) refreshSteps(phase Phase) {
	for _, v := range b.views {
		if v.Kind != "materialized view" || !v.Populated {
			continue
		}
		b.add(Step{ID: string(phase) + "/refresh/" + v.Name.String(), Phase: phase, Table: v.Name,
			SQL:  "REFRESH MATERIALIZED VIEW " + v.Name.Quoted(),
			Lock: AccessExclusive, InTx: true, Scan: true, Probe: probeMatviewPopulated, ProbeArgs: []any{v.Name.Quoted()},
			Note: "locks only the materialized view, for as long as its query runs; readers of it wait"})
	}
}

const probeMatviewPopulated = `SELECT coalesce((SELECT relispopulated FROM pg_class WHERE oid = to_regclass($1)), false)`

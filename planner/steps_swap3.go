package planner

import (
	"slices"
	"strconv"

	"github.com/pgwiden/pgwiden/catalog"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// touchTriggerFunctions makes every session recompile the closure tables'
// trigger functions: PL/pgSQL caches plans typed for the old column, which
// fail with "type of parameter does not match" after the swap. Any update
// of the function's pg_proc row invalidates them. RESET ALL is used only
// when the function has no SET clauses of its own, since it would remove
// them (a SECURITY DEFINER function's search_path, say); otherwise a
// setting the function does not have is reset, which changes nothing.
func (b *builder) touchTriggerFunctions(s *stmts) {
	var done []catalog.QName
	for _, w := range b.work {
		for _, u := range w.units() {
			for _, tr := range u.t.Triggers {
				if tr.Inherited || tr.Name == SyncTrigger || slices.Contains(done, tr.Function) {
					continue
				}
				done = append(done, tr.Function)
				s.add("ALTER FUNCTION %s() RESET %s", tr.Function.Quoted(), unsetSetting(tr.FunctionConfig))
			}
		}
	}
}

// unsetSetting picks a setting to RESET that the function does not set.
func unsetSetting(config []string) string {
	if len(config) == 0 {
		return "ALL"
	}
	for _, name := range []string{"lock_timeout", "statement_timeout", "work_mem", "search_path"} {
		if !slices.ContainsFunc(config, func(c string) bool { return len(c) > len(name) && c[:len(name)+1] == name+"=" }) {
			return name
		}
	}
	return "ALL"
}

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

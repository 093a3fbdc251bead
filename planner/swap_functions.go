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

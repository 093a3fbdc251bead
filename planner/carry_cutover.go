package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

const probeStatistics = `SELECT EXISTS (SELECT 1 FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE n.nspname = $1 AND s.stxname = $2)`

// carrySteps prepare, before the swap, what the new columns need the
// moment they take the old names: copies of the extended statistics
// objects, the old columns' statistics target and n_distinct settings,
// and statistics gathered under them. So the application's planner never
// sees a key without statistics. The old columns keep all of it for a
// rollback until cleanup.
func (b *builder) carrySteps() error {
	b.checkCarry()
	for _, w := range b.work {
		for _, rel := range b.rels(w) {
			if err := b.statisticsSteps(w, rel); err != nil {
				return err
			}
		}
		b.columnSettingsSteps(w)
		b.analyzeStep(w)
	}
	return nil
}

// statisticsSteps create a copy of each extended statistics object on the
// shadow columns, with its target, owner and comment; the swap gives it
// the original name.
func (b *builder) statisticsSteps(w *tableWork, rel *catalog.Table) error {
	for _, st := range b.carriedStatistics(w, rel) {
		name := catalog.QName{Schema: st.Name.Schema, Name: newObject(st.Name.Name)}
		create, err := rebuildStatistics(rel.Name, st, name, b.renames(w))
		if err != nil {
			return err
		}
		s := stmts{create}
		if st.Target != nil {
			s.add("ALTER STATISTICS %s SET STATISTICS %d", name.Quoted(), *st.Target)
		}
		if st.Owner != b.snap.CurrentUser {
			s.add("ALTER STATISTICS %s OWNER TO %s", name.Quoted(), catalog.Ident(st.Owner))
		}
		if st.Comment != "" {
			s.add("COMMENT ON STATISTICS %s IS %s", name.Quoted(), literal(st.Comment))
		}
		id := "cutover/statistics/" + name.String()
		b.add(Step{ID: id, Phase: Cutover, Table: rel.Name, SQL: s.String(), Lock: ShareUpdateExclusive, InTx: true,
			Probe: probeStatistics, ProbeArgs: []any{name.Schema, name.Name},
			Note: "catalog only; the ANALYZE below fills it, the swap gives it the name " + catalog.Ident(st.Name.Name)})
		for _, c := range st.Columns {
			if b.usesClosure(w, []string{c}) {
				b.carried(rel.Name, c, "extended statistics "+st.Name.String(), id, create)
			}
		}
	}
	return nil
}

// columnSettingsSteps set the old columns' statistics target and
// attribute options (n_distinct) on the shadow columns of each relation,
// before the ANALYZE that uses them.
func (b *builder) columnSettingsSteps(w *tableWork) {
	for _, rel := range b.rels(w) {
		id := "cutover/column-settings/" + rel.Name.String()
		var alters []string
		for _, mem := range w.cols {
			c := rel.Column(mem.col.Name)
			if c == nil || c.Meta == nil {
				continue
			}
			alter := "ALTER COLUMN " + catalog.Ident(shadowName(c.Name))
			if t := c.Meta.StatsTarget; t != nil {
				alters = append(alters, fmt.Sprintf("%s SET STATISTICS %d", alter, *t))
				b.carried(rel.Name, c.Name, fmt.Sprintf("statistics target %d", *t), id, alters[len(alters)-1])
			}
			if len(c.Meta.Options) > 0 {
				alters = append(alters, alter+" SET ("+optionList(c.Meta.Options)+")")
				b.carried(rel.Name, c.Name, "attribute options "+strings.Join(c.Meta.Options, ", "), id, alters[len(alters)-1])
			}
		}
		if len(alters) > 0 {
			b.add(Step{ID: id, Phase: Cutover, Table: rel.Name, SQL: "ALTER TABLE ONLY " + rel.Name.Quoted() + " " + strings.Join(alters, ", "),
				Lock: ShareUpdateExclusive, InTx: true, Note: "catalog only; set before the ANALYZE below, which they shape"})
		}
	}
}

// analyzeStep samples the shadow columns, and the other columns of the
// copied extended statistics objects (whose data ANALYZE builds only from
// columns it samples). On a partitioned table ANALYZE covers every
// partition too.
func (b *builder) analyzeStep(w *tableWork) {
	var cols []string
	for _, m := range w.cols {
		cols = append(cols, shadowName(m.col.Name))
	}
	for _, rel := range b.rels(w) {
		for _, st := range b.carriedStatistics(w, rel) {
			for _, c := range st.Columns {
				if !b.usesClosure(w, []string{c}) && !slices.Contains(cols, c) {
					cols = append(cols, c)
				}
			}
		}
	}
	t := w.t.Name
	b.add(Step{ID: "cutover/analyze/" + t.String(), Phase: Cutover, Table: t, SQL: "ANALYZE " + t.Quoted() + " (" + catalog.Idents(cols) + ")",
		Lock: ShareUpdateExclusive, InTx: true,
		Note: "samples the new columns, so they have statistics the moment they take the names; reads and writes continue"})
}

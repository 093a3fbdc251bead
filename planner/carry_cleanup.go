package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// CheckDependentsID is the cleanup step that refuses, before anything is
// dropped, when objects other than pgwiden's own still use an old column.
// The migrator runs it on every cleanup, even when recorded as done.
const CheckDependentsID = "cleanup/check-dependents"

// checkDependentsStep refuses the cleanup while anything but pgwiden's
// own objects depends on a retired column: DROP COLUMN would silently drop
// an index or a constraint the application added on it since the cutover,
// and fail on a view. pgwiden's own are the retired plain indexes and
// extended statistics objects (named *_pgwiden_old), the column's own
// default, on PostgreSQL 18 its NOT NULL constraint, and the sync trigger. DO takes no
// parameters: the names are literals, quoted by literal().
func (b *builder) checkDependentsStep() {
	var cols, indexes, stats []string
	for _, w := range b.work {
		for _, rel := range b.rels(w) {
			for _, m := range w.cols {
				cols = append(cols, fmt.Sprintf("(to_regclass(%s), %s)", literal(rel.Name.Quoted()), literal(oldName(m.col.Name))))
			}
			for _, st := range b.carriedStatistics(w, rel) {
				stats = append(stats, fmt.Sprintf("(%s, %s)", literal(st.Name.Schema), literal(oldObject(st.Name.Name))))
			}
		}
		for _, ix := range b.retiredIndexes(w) {
			indexes = append(indexes, "to_regclass("+literal(ix.name.Quoted())+")")
		}
		// The sequence a Citus table's column gave up goes with the old
		// column, as it should: not a dependent to report.
		for _, seq := range b.retiredSequences(w) {
			indexes = append(indexes, "to_regclass("+literal(seq.Quoted())+")")
		}
	}
	where := []string{
		"d.refclassid = 'pg_class'::regclass",
		"(a.attrelid::regclass, a.attname::text) IN (VALUES " + strings.Join(cols, ", ") + ")",
		"NOT (d.classid = 'pg_attrdef'::regclass AND d.objid IN (SELECT ad.oid FROM pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum))",
		"NOT (d.classid = 'pg_constraint'::regclass AND d.objid IN (SELECT c.oid FROM pg_constraint c WHERE c.contype = 'n'))",
		// The sync trigger's WHEN condition names both columns; cleanup
		// drops the trigger before the column.
		"NOT (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT t.oid FROM pg_trigger t WHERE t.tgname = " + literal(SyncTrigger) + "))",
	}
	if len(indexes) > 0 {
		where = append(where, "NOT (d.classid = 'pg_class'::regclass AND d.objid::regclass = ANY (ARRAY["+strings.Join(indexes, ", ")+"]))")
	}
	if len(stats) > 0 {
		where = append(where, "NOT (d.classid = 'pg_statistic_ext'::regclass AND d.objid IN (SELECT s.oid FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace\n"+
			"        WHERE (n.nspname::text, s.stxname::text) IN (VALUES "+strings.Join(stats, ", ")+")))")
	}
	// A view is named as such, not as its _RETURN rule; an object that
	// depends on the column twice (a CHECK) is named once.
	body := `DECLARE found text;
BEGIN
  SELECT string_agg(o, '; ' ORDER BY o) INTO found
  FROM (SELECT DISTINCT format('%s depends on column %I of %s',
          coalesce((SELECT CASE c.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || c.oid::regclass
                    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid AND r.rulename = '_RETURN'),
                   pg_describe_object(d.classid, d.objid, d.objsubid)),
          a.attname, a.attrelid::regclass) AS o
    FROM pg_depend d
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE ` + strings.Join(where, "\n      AND ") + `) found;
  IF found IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
      MESSAGE = 'cleanup refused, nothing was dropped: objects other than pgwiden''s own depend on the old columns',
      DETAIL = found,
      HINT = 'each of them uses the retired copy of the column, which cleanup drops (DROP COLUMN would drop an index or constraint with it, silently); re-create it on the live column (the name without _pgwiden_old) or drop it, then run pgwiden cleanup again';
  END IF;
END`
	b.add(Step{ID: CheckDependentsID, Phase: Cleanup, SQL: "DO " + dollarQuote(body), Lock: NoLock, InTx: true,
		Note: "read-only; runs on every cleanup, before anything is dropped"})
}

// retiredIndex is a plain index the swap kept on an old column, renamed
// *_pgwiden_old (swapIndexes): cleanup drops it, and it is pgwiden's own
// to the dependents check.
type retiredIndex struct {
	table *catalog.Table
	name  catalog.QName // its *_pgwiden_old name
	// attached: it is attached to an index of a partitioned parent and
	// goes with it; it cannot be dropped on its own.
	attached bool
}

// retiredIndexes lists the plain indexes the swap retires on w's old
// columns, exactly as swapIndexes renames them: the own indexes of the
// table and of each partition or inheritance child at every depth, and
// under a partitioned table's index every index attached to it, at every
// level of the tree. Cleanup's drops and its dependents check both read
// this list, so the one never refuses what the other drops.
func (b *builder) retiredIndexes(w *tableWork) []retiredIndex {
	var out []retiredIndex
	for _, u := range w.units() {
		for _, ix := range b.closureIndexes(u) {
			if findConstraint(u.t, ix.Constraint) != nil {
				continue // a key's index: the swap dropped it with its constraint
			}
			out = append(out, retiredIndex{table: u.t, name: catalog.QName{Schema: u.t.Name.Schema, Name: oldObject(ix.Name)}})
			if u.t.Kind != "partitioned" {
				continue
			}
			tree, _ := indexTree(b.snap, u.t, ix) // an error was a blocker at indexSteps
			for _, pi := range tree {
				out = append(out, retiredIndex{table: pi.table, name: catalog.QName{Schema: pi.table.Name.Schema, Name: oldObject(pi.ix.Name)}, attached: true})
			}
		}
	}
	return out
}

// dropRetiredStatistics drops the extended statistics objects the swap
// kept on the old columns: DROP COLUMN would only drop one left with a
// single column, and keep the others, narrowed.
func (b *builder) dropRetiredStatistics(w *tableWork) {
	for _, rel := range b.rels(w) {
		for _, st := range b.carriedStatistics(w, rel) {
			old := catalog.QName{Schema: st.Name.Schema, Name: oldObject(st.Name.Name)}
			b.add(Step{ID: "cleanup/drop-statistics/" + old.String(), Phase: Cleanup, Table: rel.Name,
				SQL: "DROP STATISTICS IF EXISTS " + old.Quoted(), Lock: ShareUpdateExclusive, InTx: true, Note: "catalog change only"})
		}
	}
}

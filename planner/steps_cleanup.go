package planner

import (
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// cleanupSteps drop what the swap left for a rollback: the old columns (and
// with them their renamed indexes), the triggers and their functions. Old
// indexes of plain tables are dropped CONCURRENTLY first so that DROP COLUMN
// holds its lock only for a catalog change.
func (b *builder) cleanupSteps() {
	b.checkDependentsStep()
	b.orphanedShardsStep(Cleanup)
	for _, w := range b.work {
		t := w.t.Name
		for _, tt := range b.triggerTables(w) {
			b.add(Step{ID: "cleanup/drop-trigger/" + tt.String(), Phase: Cleanup, Table: tt,
				SQL:  b.unsafeTriggers(tt) + "DROP TRIGGER IF EXISTS " + catalog.Ident(SyncTrigger) + " ON " + tt.Quoted(),
				Lock: AccessExclusive, InTx: true, Note: "catalog change only"})
		}
		b.add(Step{ID: "cleanup/drop-function/" + t.String(), Phase: Cleanup, Table: t,
			SQL: "DROP FUNCTION IF EXISTS " + syncFunction(t).Quoted() + "()", Lock: NoLock, InTx: true})
		for _, ix := range b.retiredIndexes(w) {
			// A partitioned table's index cannot be dropped concurrently,
			// nor an index attached to one: DROP COLUMN drops those trees.
			if ix.attached || ix.table.Kind == "partitioned" {
				continue
			}
			b.add(Step{ID: "cleanup/drop-index/" + ix.name.String(), Phase: Cleanup, Table: ix.table.Name,
				SQL: "DROP INDEX CONCURRENTLY IF EXISTS " + ix.name.Quoted(), Lock: ShareUpdateExclusive, InTx: false})
		}
		b.dropRetiredStatistics(w)
		var drops []string
		for _, m := range w.cols {
			drops = append(drops, "DROP COLUMN IF EXISTS "+catalog.Ident(oldName(m.col.Name)))
		}
		b.add(Step{ID: "cleanup/drop-old/" + t.String(), Phase: Cleanup, Table: t,
			SQL:  "ALTER TABLE " + t.Quoted() + " " + join(drops),
			Lock: AccessExclusive, InTx: true, Note: "catalog change only; the space is reclaimed as rows are rewritten"})
		for _, m := range w.cols {
			b.renameSequenceStep(t, m.col)
		}
	}
}

// rollbackSteps undo prepare, backfill and the cutover's preparations
// before the swap, newest first: new foreign keys and checks, new indexes,
// the triggers and functions, the shadow columns, the sequences' type.
// Steps of the swap and after it have no inverse here (undo skips them).
func (b *builder) rollbackSteps() {
	b.orphanedShardsStep(Rollback)
	done := map[string]bool{}
	for i := len(b.plan.Steps) - 1; i >= 0; i-- {
		s := b.plan.Steps[i]
		if undo, ok := b.undo(s); ok && !done[undo.ID] {
			done[undo.ID] = true
			b.add(undo)
		}
	}
}

// undo renders the inverse of one prepare or pre-swap cutover step. Each
// inverse has a probe that is true when there is nothing to undo (its
// forward step never happened, or was undone already), so a rollback after
// a failure at any step skips what was never done instead of assuming it:
// narrowing a sequence that was never widened is refused on Citus, and
// needs ownership of the sequence everywhere.
func (b *builder) undo(s Step) (Step, bool) {
	r := Step{Phase: Rollback, Table: s.Table, InTx: true}
	switch kind, obj := splitID(s.ID); kind {
	case "prepare/add-shadow":
		w := b.byName[s.Table]
		var drops []string
		for _, m := range w.cols {
			drops = append(drops, "DROP COLUMN IF EXISTS "+catalog.Ident(shadowName(m.col.Name)))
		}
		r.ID, r.SQL, r.Lock = "rollback/drop-shadow/"+obj, "ALTER TABLE "+s.Table.Quoted()+" "+join(drops), AccessExclusive
		r.Probe, r.ProbeArgs = absent(probeColumn), s.ProbeArgs
	case "prepare/sync-trigger":
		r.ID, r.SQL, r.Lock = "rollback/drop-trigger/"+obj, b.unsafeTriggers(s.Table)+"DROP TRIGGER IF EXISTS "+catalog.Ident(SyncTrigger)+" ON "+s.Table.Quoted(), AccessExclusive
		r.Probe, r.ProbeArgs = absent(probeTrigger), s.ProbeArgs
	case "prepare/sync-function":
		r.ID, r.SQL, r.Lock = "rollback/drop-function/"+obj, "DROP FUNCTION IF EXISTS "+syncFunction(s.Table).Quoted()+"()", NoLock
		r.Probe, r.ProbeArgs = absent(probeFunction), []any{syncFunction(s.Table).Quoted() + "()"}
	case "prepare/new-sequence":
		r.ID, r.SQL, r.Lock = "rollback/drop-sequence/"+obj, "DROP SEQUENCE IF EXISTS "+s.ProbeArgs[0].(string), NoLock
		r.Probe, r.ProbeArgs = probeNoRelation, s.ProbeArgs
	case "prepare/widen-sequence":
		for _, sc := range b.seqs {
			if sc.Sequence.String() == obj {
				r.ID, r.SQL, r.Lock = "rollback/narrow-sequence/"+obj, "ALTER SEQUENCE "+sc.Sequence.Quoted()+" AS "+sc.From, ShareRowExclusive
				r.Note = "fails if the sequence has already passed the " + sc.From + " range"
				r.Probe, r.ProbeArgs = absent(probeSeqType), s.ProbeArgs
			}
		}
	case "cutover/index":
		r.ID, r.SQL, r.Lock, r.InTx = "rollback/drop-index/"+obj, "DROP INDEX CONCURRENTLY IF EXISTS "+s.ProbeArgs[0].(string), ShareUpdateExclusive, false
		if s.InTx { // an ON ONLY parent index cannot be dropped concurrently
			r.SQL, r.Lock, r.InTx = "DROP INDEX IF EXISTS "+s.ProbeArgs[0].(string), AccessExclusive, true
		}
		// Valid or not: an interrupted build leaves an INVALID index.
		r.Probe, r.ProbeArgs = probeNoRelation, s.ProbeArgs[:1]
	case "cutover/statistics":
		r.ID, r.SQL, r.Lock = "rollback/drop-statistics/"+obj, "DROP STATISTICS IF EXISTS "+qn(s.ProbeArgs[0].(string), s.ProbeArgs[1].(string)), ShareUpdateExclusive
		r.Probe, r.ProbeArgs = absent(probeStatistics), s.ProbeArgs
	case "cutover/constraint":
		// A foreign key's drop locks its parent too: in the same order.
		lock, _, _ := strings.Cut(s.SQL, "ALTER TABLE ")
		r.ID, r.SQL, r.Lock = "rollback/drop-constraint/"+obj, lock+"ALTER TABLE "+s.Table.Quoted()+" DROP CONSTRAINT IF EXISTS "+catalog.Ident(s.ProbeArgs[1].(string)), AccessExclusive
		// Validated or not: NOT VALID is added first, validated later.
		r.Probe, r.ProbeArgs = absent(probeCon), s.ProbeArgs[:2]
	default:
		return Step{}, false
	}
	return r, r.ID != ""
}

// absent turns a probe that is true when an object exists into one that
// is true when it does not: the "already done?" of the step dropping it.
func absent(probe string) string { return "SELECT NOT (" + probe + ")" }

// splitID splits "phase/kind/object" into "phase/kind" and "object",
// through StepID, the one place an ID is taken apart.
func splitID(id string) (kind, obj string) {
	phase, k, obj := StepID(id).parts()
	if k == "" {
		return id, ""
	}
	return phase + "/" + k, obj
}

func join(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

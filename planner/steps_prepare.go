package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// Probes shared by several steps. Each returns one boolean: true when the
// step's effect is already there.
const (
	probeSchema  = `SELECT to_regnamespace($1) IS NOT NULL`
	probeColumn  = `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped)`
	probeTrigger = `SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2)`
	probeSeqType = `SELECT EXISTS (SELECT 1 FROM pg_sequence WHERE seqrelid = to_regclass($1) AND seqtypid = 'bigint'::regtype)`
	probeIndex   = `SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND indisvalid)`
	// probeNoInvalidIndex is true when there is no INVALID index of the
	// name to drop.
	probeNoInvalidIndex = `SELECT NOT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid)`
	probeCon            = `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2)`
	probeConValid       = `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2 AND convalidated)`
	probeFunction       = `SELECT to_regprocedure($1) IS NOT NULL`
	// probeNoRelation is true when the relation (an index) is gone.
	probeNoRelation = `SELECT to_regclass($1) IS NULL`
)

// prepareSteps adds the shadow columns, the triggers that keep them equal
// to the old ones, and widens the feeding sequences.
func (b *builder) prepareSteps() {
	// The probe skips the statement when the schema exists: CREATE SCHEMA IF
	// NOT EXISTS still needs CREATE on the database.
	b.add(Step{ID: "prepare/state-schema", Phase: Prepare, SQL: "CREATE SCHEMA IF NOT EXISTS " + catalog.Ident(StateSchema),
		Lock: NoLock, InTx: true, Probe: probeSchema, ProbeArgs: []any{StateSchema},
		Note: "pgwiden's own schema: state and trigger functions"})
	for _, w := range b.work {
		b.addShadow(w)
		b.addSync(w)
	}
	b.sequenceSteps()
}

// addShadow adds every shadow column of one table in one statement.
// A NOT NULL column gets NOT NULL DEFAULT 0: PostgreSQL 11+ stores such a
// default in the catalog without rewriting the table, and the column is
// NOT NULL from the start, so the cutover needs no validation scan. The
// default is never a copy of a nextval() default, which would draw the
// sequence twice per row.
func (b *builder) addShadow(w *tableWork) {
	var adds []string
	for _, m := range w.cols {
		add := "ADD COLUMN " + catalog.Ident(shadowName(m.col.Name)) + " bigint"
		if m.col.NotNull {
			add += shadowNotNull(m.col) + " DEFAULT 0"
		}
		adds = append(adds, add)
	}
	t := w.t.Name
	b.add(Step{ID: "prepare/add-shadow/" + t.String(), Phase: Prepare, Table: t,
		SQL:  "ALTER TABLE " + t.Quoted() + " " + strings.Join(adds, ", ") + b.shadowGrants(w),
		Lock: AccessExclusive, InTx: true, Probe: probeColumn, ProbeArgs: []any{t.Quoted(), shadowName(w.cols[0].col.Name)},
		Note: "metadata only: no table rewrite, the lock is held for milliseconds"})
}

// addSync creates the trigger function and the trigger that copy old to
// shadow on every INSERT and UPDATE.
func (b *builder) addSync(w *tableWork) {
	t, fn := w.t.Name, syncFunction(w.t.Name)
	var body strings.Builder
	for _, m := range w.cols {
		fmt.Fprintf(&body, "  NEW.%s := NEW.%s;\n", catalog.Ident(shadowName(m.col.Name)), catalog.Ident(m.col.Name))
	}
	b.add(Step{ID: "prepare/sync-function/" + t.String(), Phase: Prepare, Table: t,
		SQL: syncFunctionSQL(fn, body.String()), Lock: NoLock, InTx: true})
	// ENABLE ALWAYS: a logical-replication apply worker writes with
	// session_replication_role = replica, under which ordinary triggers do
	// not fire; its rows need their copy as much as the application's.
	when := syncWhen(w)
	for _, tt := range b.triggerTables(w) {
		b.add(Step{ID: "prepare/sync-trigger/" + tt.String(), Phase: Prepare, Table: tt,
			SQL: b.unsafeTriggers(tt) + fmt.Sprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW WHEN (%s) EXECUTE FUNCTION %s();\nALTER TABLE %s ENABLE ALWAYS TRIGGER %s",
				catalog.Ident(SyncTrigger), tt.Quoted(), when, fn.Quoted(), tt.Quoted(), catalog.Ident(SyncTrigger)),
			Lock: ShareRowExclusive, InTx: true, Probe: probeTrigger, ProbeArgs: []any{tt.Quoted(), SyncTrigger},
			Note: "from now on every written row carries its bigint copy, replicated ones included"})
	}
}

// syncWhen is the sync trigger's WHEN condition: some pair of columns
// differs. When none does, every assignment of the function would be a
// no-op, so skipping the call changes nothing; and the backfill's own
// UPDATE, which sets every shadow to its column, never calls the plpgsql
// function at all. That call (with its pinned search_path) costs about as
// much as the row's UPDATE itself, and the WHEN condition, compiled once
// into the trigger, next to nothing.
//
// The condition holds its columns by number, not by name: after the swap
// renames them, it compares the same two columns, which the function then
// copies the other way (swap_keys.go syncFunction); a value beyond the old
// type can never equal its NULL copy, so the function still runs for it.
func syncWhen(w *tableWork) string {
	var conds []string
	for _, m := range w.cols {
		conds = append(conds, "NEW."+catalog.Ident(shadowName(m.col.Name))+" IS DISTINCT FROM NEW."+catalog.Ident(m.col.Name))
	}
	return strings.Join(conds, " OR ")
}

// triggerTables names the tables that carry w's sync trigger: w itself,
// or on PostgreSQL 12 each leaf partition of a partitioned w, or w and
// every table inheriting from it (triggers are not inherited). All of
// them call w's one sync function.
func (b *builder) triggerTables(w *tableWork) []catalog.QName {
	if w.t.Kind == "partitioned" && !b.leafTriggers(w) {
		return []catalog.QName{w.t.Name}
	}
	var out []catalog.QName
	for _, l := range w.leaves {
		out = append(out, l.Name)
	}
	return out
}

// syncFunctionSQL renders a sync function. Its search_path is pinned: the
// body's operators (BETWEEN after the swap) must resolve to pg_catalog's
// whatever the role's, the database's or the application's search_path.
func syncFunctionSQL(fn catalog.QName, body string) string {
	return "CREATE OR REPLACE FUNCTION " + fn.Quoted() + "() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS " +
		dollarQuote("BEGIN\n"+body+"  RETURN NEW;\nEND")
}

// sequenceSteps widens narrow sequences: a serial's sequence is typed
// integer and stops at 2147483647 even after its column is bigint.
func (b *builder) sequenceSteps() {
	for _, s := range b.seqs {
		if sc := b.citusSequence(s.Feeds.Table, s.Feeds.Column); sc != nil {
			big := bigSequence(sc.Sequence)
			sc.ReplacedBy = &big
			b.newSequenceStep(*sc)
			continue
		}
		b.add(Step{ID: "prepare/widen-sequence/" + s.Sequence.String(), Phase: Prepare, Table: s.Feeds.Table,
			SQL:  "ALTER SEQUENCE " + s.Sequence.Quoted() + " AS bigint",
			Lock: ShareRowExclusive, InTx: true, Probe: probeSeqType, ProbeArgs: []any{s.Sequence.Quoted()},
			Note: "raises MAXVALUE to the bigint maximum; nextval() waits only for this statement"})
	}
}

func (b *builder) add(s Step) { b.plan.Steps = append(b.plan.Steps, s) }

// dollarQuote quotes a function body with $pgwiden$, or $pgwiden1$, ...
// when a quoted identifier inside the body happens to contain the tag.
func dollarQuote(body string) string {
	tag := "$pgwiden$"
	for i := 1; strings.Contains(body, tag); i++ {
		tag = fmt.Sprintf("$pgwiden%d$", i)
	}
	return tag + "\n" + body + "\n" + tag
}

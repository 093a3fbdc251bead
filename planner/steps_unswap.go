package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// unswapSteps render a rollback after the swap: the cutover in reverse. The
// old columns have kept following the live ones through the reversed
// trigger, so once a pass finds every value equal (none beyond the old
// type's range) the old columns get back what the swap took from them (key
// indexes, checks, foreign keys, NOT NULL, all built and validated without
// blocking writes) and one short transaction swaps them back. The rollback
// steps then remove the bigint columns as if the cutover never ran.
func (b *builder) unswapSteps() error {
	b.phase, b.onto = Unswap, ontoOld
	b.guardSteps()
	b.verifySteps(oldName, "read-only pass; a row whose value no longer fits the old type stops the rollback")
	for _, w := range b.work {
		for _, u := range w.units() {
			if err := b.indexSteps(u, keyIndexes); err != nil {
				return err
			}
			if err := b.checkSteps(u); err != nil {
				return err
			}
		}
		for _, m := range w.cols {
			if m.col.NotNull {
				b.addConstraint(w.t.Name, notNullCheck(m.col.Name), "CHECK ("+catalog.Ident(oldName(m.col.Name))+" IS NOT NULL)", true, nil)
			}
		}
	}
	if err := b.fkSteps(); err != nil {
		return err
	}
	sql, err := b.swapSQL(backward)
	if err != nil {
		return err
	}
	b.sequenceFloorSteps(backward)
	b.add(Step{ID: "unswap/swap", Phase: Unswap, SQL: sql, Lock: AccessExclusive, InTx: true,
		Note: "one transaction, catalog changes only: the old columns become the live ones again"})
	b.refreshSteps(Unswap)
	b.validateDeferredFKs(Unswap, "unswap/validate/")
	b.plan.Steps = append(b.plan.Steps, b.unguard...)
	return nil
}

// guardSteps make the sync triggers refuse values beyond the old type from
// here on, so that none can arrive between the verification and the swap
// back: a rollback returns the column to that type, and the application
// gets an error instead of a value silently lost. If the verification
// refuses the rollback, the unguard steps restore the permissive triggers.
func (b *builder) guardSteps() {
	for _, w := range b.work {
		t := w.t.Name
		var guard, plain stmts
		b.syncFunction(&plain, w, forward)
		var body strings.Builder
		for _, m := range w.cols {
			limit, _ := catalog.TypeMax(m.col.Type)
			col := catalog.Ident(m.col.Name)
			fmt.Fprintf(&body, "  IF NEW.%s NOT BETWEEN %d AND %d THEN\n", col, -limit-1, limit)
			fmt.Fprintf(&body, "    RAISE EXCEPTION USING ERRCODE = '22003', MESSAGE = format('pgwiden: %s.%%s = %%s does not fit %s: a rollback to %s is under way', %s, NEW.%s);\n",
				strings.ReplaceAll(sqlQuoteInner(t.String()), "%", "%%"), m.col.Type, m.col.Type, literal(m.col.Name), col)
			fmt.Fprintf(&body, "  END IF;\n  NEW.%s := NEW.%s;\n", catalog.Ident(oldName(m.col.Name)), col)
		}
		guard.add("%s", syncFunctionSQL(syncFunction(t), body.String()))
		b.add(Step{ID: "unswap/guard/" + t.String(), Phase: Unswap, Table: t, SQL: guard.String(), Lock: NoLock, InTx: true,
			Note: "from here on a value beyond the old type is refused, not lost"})
		b.unguard = append(b.unguard, Step{ID: "unguard/" + t.String(), Phase: Unguard, Table: t, SQL: plain.String(), Lock: NoLock, InTx: true,
			Note: "only when the rollback is refused: values beyond the old type are accepted again"})
	}
}

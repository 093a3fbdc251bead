package planner

import "github.com/pgwiden/pgwiden/catalog"

// unswapSteps render a rollback after the swap: the cutover in reverse. The
// old columns have kept following the live ones through the reversed
// trigger, so once a pass finds every value equal (none beyond the old
// type's range) the old columns get back what the swap took from them (key
// indexes, checks, foreign keys, NOT NULL, all built and validated without
// blocking writes) and one short transaction swaps them back. The rollback
// steps then remove the bigint columns as if the cutover never ran.
func (b *builder) unswapSteps() error {
	b.phase, b.onto = Unswap, ontoOld
	b.verifySteps(oldName, "read-only pass; a row whose value no longer fits the old type stops the rollback")
	for _, w := range b.work {
		if err := b.keyIndexSteps(w); err != nil {
			return err
		}
		if err := b.checkSteps(w); err != nil {
			return err
		}
		for _, m := range w.cols {
			if m.col.NotNull {
				b.addConstraint(w.t.Name, notNullCheck(m.col.Name), "CHECK ("+catalog.Ident(oldName(m.col.Name))+" IS NOT NULL)", true)
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
	b.add(Step{ID: "unswap/swap", Phase: Unswap, SQL: sql, Lock: AccessExclusive, InTx: true,
		Note: "one transaction, catalog changes only: the old columns become the live ones again"})
	b.validateDeferredFKs(Unswap, "unswap/validate/")
	return nil
}

// keyIndexSteps rebuild the indexes of key constraints on the old columns:
// the swap dropped them with the constraints. Plain indexes of the old
// columns were kept, renamed, and need no rebuild.
func (b *builder) keyIndexSteps(w *tableWork) error {
	for _, ix := range b.closureIndexes(w) {
		if ix.Constraint == "" {
			continue
		}
		if w.t.Kind != "partitioned" {
			if err := b.concurrentIndex(w.t, ix, b.renames(w)); err != nil {
				return err
			}
			continue
		}
		if err := b.partitionedIndex(w, ix); err != nil {
			return err
		}
	}
	return nil
}

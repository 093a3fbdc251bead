package planner

// render produces the steps of every phase, in the order they run. The
// rollback steps undo everything up to the swap; undoing a swap is the
// migrator's job, since it depends on the values written since.
func (b *builder) render() {
	if err := b.renderAll(); err != nil {
		b.finds.block("unsupported-definition", b.plan.Target.String(), err.Error(),
			"send the output of pgwiden plan --dump-catalog to the pgwiden developers")
	}
}

func (b *builder) renderAll() error {
	b.prepareSteps()
	b.backfillSteps()
	b.phase, b.onto = Cutover, ontoShadow
	b.verifySteps(shadowName, "read-only pass; must find 0 rows")
	for _, w := range b.work {
		for _, u := range w.units() {
			if err := b.indexSteps(u, allIndexes); err != nil {
				return err
			}
			if err := b.checkSteps(u); err != nil {
				return err
			}
		}
	}
	if err := b.fkSteps(); err != nil {
		return err
	}
	if err := b.swapSteps(); err != nil {
		return err
	}
	b.cleanupSteps()
	b.rollbackSteps()
	return b.unswapSteps()
}

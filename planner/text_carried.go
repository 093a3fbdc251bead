package planner

// carried lists what the migration carries to the new columns, each with
// the statement that does it and the step it is part of.
func (pw *printer) carried(cs []Carry) {
	if len(cs) == 0 {
		return
	}
	pw.printf("\nCarried to the new columns (the old ones keep theirs for a rollback until cleanup):\n")
	for _, c := range cs {
		pw.printf("  - %s.%s: %s, in %s:\n%s\n", c.Column.Table, c.Column.Column, c.What, c.Step, indent(c.SQL, "      "))
	}
}

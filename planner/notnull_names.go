package planner

import (
	"fmt"

	"github.com/pgwiden/pgwiden/catalog"
)

// PostgreSQL 18 records NOT NULL as a named constraint (pg_constraint,
// contype 'n'), and pg_dump prints a name that is not the default. Left to
// itself the server would name the shadow column's constraint after the
// shadow column (<table>_<col>_pgwiden_new_not_null) and the migration
// would end with that name. So, when the catalog shows a name
// (catalog.Column.NotNullName, only ever set on 18+):
//   - prepare names the shadow's constraint <name>_pgwiden_new;
//   - the swap, once the retired column's DROP NOT NULL has freed the
//     original name, renames the shadow's constraint to it;
//   - the swap back renames it to <name>_pgwiden_new again (the state
//     after prepare) and gives the returning column a constraint with the
//     original name: ADD CONSTRAINT ... NOT NULL, which, like SET NOT NULL,
//     skips its scan thanks to the validated helper CHECK.
// On a partitioned table the rename recurses to the partitions, which
// share the parent's name (PostgreSQL refuses to rename an inherited
// constraint on one partition alone; see checkLeafNotNullNames).

// shadowNotNull is the NOT NULL clause of a NOT NULL column's shadow.
func shadowNotNull(c *catalog.Column) string {
	if c.NotNullName == "" {
		return " NOT NULL"
	}
	return " CONSTRAINT " + catalog.Ident(newObject(c.NotNullName)) + " NOT NULL"
}

// promoteNotNullName gives the promoted column the original constraint
// name, after the forward swap dropped the retired column's NOT NULL.
func promoteNotNullName(s *stmts, t string, c *catalog.Column) {
	if c.NotNullName != "" {
		s.add("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", t, catalog.Ident(newObject(c.NotNullName)), catalog.Ident(c.NotNullName))
	}
}

// restoreNotNull makes the column going back into service (named col by
// now) NOT NULL again in a swap back, under its original constraint name.
func restoreNotNull(s *stmts, t string, c *catalog.Column) {
	col := catalog.Ident(c.Name)
	if c.NotNullName == "" {
		s.add("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", t, col)
		return
	}
	s.add("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", t, catalog.Ident(c.NotNullName), catalog.Ident(newObject(c.NotNullName)))
	s.add("ALTER TABLE %s ADD CONSTRAINT %s NOT NULL %s", t, catalog.Ident(c.NotNullName), col)
}

// checkLeafNotNullNames warns about a partition whose NOT NULL constraint
// on a widened column is not named as its parent's (a table attached as a
// partition keeps its own name): the shadow's constraint is added on the
// parent and every partition inherits the parent's name, which PostgreSQL
// does not let pgwiden rename on the partition alone.
func (b *builder) checkLeafNotNullNames() {
	for _, w := range b.work {
		for _, m := range w.cols {
			if m.col.NotNullName == "" {
				continue
			}
			for _, l := range w.leaves {
				lc := l.Column(m.col.Name)
				if l == w.t || lc == nil || lc.NotNullName == "" || lc.NotNullName == m.col.NotNullName {
					continue
				}
				b.finds.warn("not-null-name", fmt.Sprintf("%s.%s", l.Name, m.col.Name),
					fmt.Sprintf("the partition's NOT NULL constraint is named %q, its parent's %q: after the cutover the partition's constraint has the parent's name", lc.NotNullName, m.col.NotNullName),
					"none needed: PostgreSQL gives a partition the name of a NOT NULL constraint it inherits; a schema diff will show the new name")
			}
		}
	}
}

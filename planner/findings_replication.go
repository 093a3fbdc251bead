package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// checkPublished warns about a closure table that a publication sends to
// logical-replication subscribers. From prepare on, every write carries
// pgwiden's shadow column, and from the swap on its old column too, with
// bigint values in the widened one: a subscriber whose table lacks a
// published column stops applying (the worker errors on every retry). The
// fix names the exact columns each subscriber needs first.
func (f *findings) checkPublished(w *tableWork) {
	t := w.t
	if len(t.Publications) == 0 {
		return
	}
	var cols, adds []string
	for _, m := range w.cols {
		cols = append(cols, catalog.Ident(m.col.Name))
		for _, c := range []string{shadowName(m.col.Name), oldName(m.col.Name)} {
			adds = append(adds, "ADD COLUMN "+catalog.Ident(c)+" bigint")
		}
	}
	f.warn("publication", t.Name.String(),
		fmt.Sprintf("published by %s: from prepare on, writes replicate pgwiden's shadow columns, from the swap on its old columns too, and bigint values in %s; a subscriber whose table lacks one of them stops applying",
			strings.Join(t.Publications, ", "), strings.Join(cols, ", ")),
		fmt.Sprintf("before prepare, on every subscriber: widen %s there first (pgwiden migrates a subscriber while it applies), then ALTER TABLE %s %s; drop those columns there after cleanup. Or, on PostgreSQL 15 and later and unless the publication is FOR ALL TABLES, give the table a column list in the publication that leaves pgwiden's columns out",
			strings.Join(cols, ", "), t.Name.Quoted(), strings.Join(adds, ", ")))
}

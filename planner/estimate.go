package planner

import "slices"

// estimate fills Plan.Estimates and each table's size from catalog
// statistics. Partitioned parents hold no rows: their leaves are counted.
func (b *builder) estimate() {
	e := &b.plan.Estimates
	var allIndexes int64
	for i, w := range b.work {
		var rows float64
		var bytes int64
		for _, l := range w.leaves {
			rows += max(l.RowEstimate, 0)
			bytes += l.TableBytes
			for _, ix := range l.Indexes {
				allIndexes += ix.Bytes
				if b.usesClosure(w, ix.Columns, ix.Include, ix.ExprColumns) {
					e.IndexBytes += ix.Bytes
				}
			}
		}
		b.plan.Tables[i].Rows, b.plan.Tables[i].Bytes = rows, bytes
		e.Rows += rows
		e.TableBytes += bytes
		// The backfill leaves one dead version of every row until vacuum,
		// the shadow column adds 8 bytes a row, and the new indexes are
		// about as large as the ones they replace (added below).
		e.ExtraBytes += bytes + int64(rows)*8*int64(len(w.cols))
	}
	// Every index of the tables grows too: a backfill update that cannot
	// stay on its page (HOT) adds an entry to each of them.
	e.ExtraBytes += e.IndexBytes + allIndexes
}

// usesClosure reports whether any of the column lists names a closure
// column of w.
func (b *builder) usesClosure(w *tableWork, lists ...[]string) bool {
	for _, m := range w.cols {
		for _, l := range lists {
			if slices.Contains(l, m.col.Name) {
				return true
			}
		}
	}
	return false
}

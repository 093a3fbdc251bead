package catalog

import (
	"context"
	"fmt"
	"math"
)

// OnRunway reports whether s counts up towards a negative MAXVALUE: the
// emergency runway of `pgwiden runway`, which hands out the unused negative
// half of a column's range after the positive half is used up.
func (s *Sequence) OnRunway() bool { return s.Increment > 0 && s.Max < 0 }

// TypeMin returns the smallest value of an integer type as format_type
// spells it, and false for any other type.
func TypeMin(typ string) (int64, bool) {
	switch typ {
	case "smallint":
		return math.MinInt16, true
	case "integer":
		return math.MinInt32, true
	case "bigint":
		return math.MinInt64, true
	}
	return 0, false
}

// DomainBase returns the base type of typ, as format_type spells it, when
// typ is a domain, and "" when it is not. The snapshot does not hold
// domains: a column of a domain type is no integer column to the planner.
func DomainBase(ctx context.Context, q Querier, typ string) (string, error) {
	rows, err := q.Query(ctx, `/* pgwiden catalog */ SELECT format_type(t.typbasetype, NULL)
FROM pg_catalog.pg_type t WHERE t.oid = to_regtype($1) AND t.typtype = 'd'`, typ)
	if err != nil {
		return "", fmt.Errorf("read type %s: %w", typ, err)
	}
	defer rows.Close()
	var base string
	if rows.Next() {
		err = rows.Scan(&base)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return "", fmt.Errorf("read type %s: %w", typ, err)
	}
	return base, nil
}

// IndexLeadsWith reports whether max(col) and ORDER BY col DESC LIMIT 1 can
// be answered from one end of an index: a valid, non-partial btree whose
// first key column is col. Anything else could scan the whole table.
func (t *Table) IndexLeadsWith(col string) bool {
	for _, ix := range t.Indexes {
		if ix.Valid && ix.Method == "btree" && ix.Predicate == "" && len(ix.Columns) > 0 && ix.Columns[0] == col {
			return true
		}
	}
	return false
}

package catalog

import "math"

// TypeMax returns the largest value of an integer type as format_type spells
// it, and false for any other type.
func TypeMax(typ string) (int64, bool) {
	switch typ {
	case "smallint":
		return math.MaxInt16, true
	case "integer":
		return math.MaxInt32, true
	case "bigint":
		return math.MaxInt64, true
	}
	return 0, false
}

// IsNarrowInt reports whether typ is an integer type narrower than bigint.
func IsNarrowInt(typ string) bool { return typ == "smallint" || typ == "integer" }

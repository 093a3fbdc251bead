package audit

import (
	"cmp"
	"slices"
	"time"
)

// Kinds of finding.
const (
	// KindColumn is a smallint/integer key column or a column fed by a
	// sequence; its limit is the smaller of its type's and its sequence's.
	KindColumn = "column"
	// KindSequence is a sequence that stops at or below 2^31-1 and that
	// feeds no column reported as KindColumn: a standalone counter, or a
	// sequence feeding a bigint column.
	KindSequence = "sequence"
	// KindFKToWiderKey is an int4/int2 foreign key column that references a
	// wider key: it overflows when the parent's ids pass its own limit.
	KindFKToWiderKey = "fk-to-wider-key"
)

// DefaultThreshold is the fraction of the range used above which a finding
// makes `pgwiden audit` exit with status 3.
const DefaultThreshold = 0.5

// Finding is one object at risk of overflow and how close it is.
type Finding struct {
	// Object is "schema.table.column" for a column or "schema.sequence".
	Object string `json:"object"`
	Kind   string `json:"kind"`
	// Type is the column's or the sequence's type: smallint, integer, bigint.
	Type string `json:"type"`
	// Sequence feeds the column ("" when none, and for KindSequence).
	Sequence string `json:"sequence"`
	// Limit is the last value that fits. It is negative for a column fed by
	// a sequence that counts down (negative increment).
	Limit int64 `json:"limit"`
	// Current is nil when it cannot be read cheaply; Note says why.
	Current *int64 `json:"current"`
	// Used is Current/Limit, 0 when Current is unknown. It may exceed 1 when
	// a sequence has already passed the column's limit.
	Used float64 `json:"used"`
	// PerDay is how many values a day are used up (moving towards Limit);
	// nil without a sample or history.
	PerDay *float64 `json:"per_day"`
	// ExhaustsAt is when Current reaches Limit at PerDay: nil when unknown,
	// not growing or more than a century away; the time of the reading when
	// the limit is already reached.
	ExhaustsAt *time.Time `json:"exhausts_at"`
	Note       string     `json:"note"`

	// viaRef is set when Current is the referenced key's value, so that a
	// parent sorts before the children that share its value.
	viaRef bool
}

// Down reports whether the finding counts towards a negative limit.
func (f *Finding) Down() bool { return f.Limit < 0 }

// Above reports whether f uses more than threshold of its range.
func (f *Finding) Above(threshold float64) bool { return f.Used > threshold }

// Report is the outcome of one audit run, as rendered by WriteText and
// WriteJSON.
type Report struct {
	Database  string
	TakenAt   time.Time
	Threshold float64
	// RatesFrom says where growth rates came from: "sample", "history" or
	// "" (none).
	RatesFrom string
	Findings  []Finding
}

// Above counts the findings above the report's threshold.
func (r *Report) Above() int {
	n := 0
	for i := range r.Findings {
		if r.Findings[i].Above(r.Threshold) {
			n++
		}
	}
	return n
}

// Sort orders findings most urgent first: those with a known exhaustion
// date by that date, then the rest by the fraction used. Ties put a key
// before the foreign keys that share its value, then go by name, so that
// the output is stable.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		switch {
		case a.ExhaustsAt != nil && b.ExhaustsAt == nil:
			return -1
		case a.ExhaustsAt == nil && b.ExhaustsAt != nil:
			return 1
		case a.ExhaustsAt != nil && !a.ExhaustsAt.Equal(*b.ExhaustsAt):
			return a.ExhaustsAt.Compare(*b.ExhaustsAt)
		}
		if c := cmp.Compare(b.Used, a.Used); c != 0 {
			return c
		}
		if a.viaRef != b.viaRef {
			if b.viaRef {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Object, b.Object)
	})
}

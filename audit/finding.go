package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/runway"
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
	// MigrationSeconds estimates how long widening takes (ApplyStartBy);
	// nil when it cannot be planned from here.
	MigrationSeconds *float64 `json:"migration_s"`
	// StartBy is ExhaustsAt minus MigrationSeconds: the last moment to
	// start the migration. nil when either is unknown.
	StartBy *time.Time `json:"start_by"`
	// Runway is set when the column's sequence is on the emergency runway
	// (pgwiden runway): Limit is then the runway's end, and Used the
	// fraction of the runway used.
	Runway *runway.Status `json:"runway"`
	// Unknown is set when the value could not be read for lack of
	// privilege (Note says on what): audit exits 6 unless something is at
	// risk, so a monitoring check does not stay green on it.
	Unknown bool   `json:"unknown"`
	Note    string `json:"note"`

	// viaRef is set when Current is the referenced key's value, so that a
	// parent sorts before the children that share its value.
	viaRef bool
	// target is the column to widen for this finding (nil for a
	// standalone sequence, which ALTER SEQUENCE ... AS bigint fixes).
	target *planner.Target
}

// Down reports whether the finding counts towards a negative limit. A
// runway's limit is negative too, but its sequence counts up.
func (f *Finding) Down() bool { return f.Limit < 0 && f.Runway == nil }

// Above reports whether f uses more than threshold of its range. A column
// on a runway has used up its positive range: it is always above.
func (f *Finding) Above(threshold float64) bool { return f.Runway != nil || f.Used > threshold }

// urgency is the date a finding sorts by: its start-by date, or its
// exhaustion date when the migration's duration is unknown.
func (f *Finding) urgency() *time.Time {
	if f.StartBy != nil {
		return f.StartBy
	}
	return f.ExhaustsAt
}

// StartByPassed reports whether the migration should have started by now.
func (f *Finding) StartByPassed(now time.Time) bool { return f.StartBy != nil && !f.StartBy.After(now) }

// RunwayCommand is the `pgwiden runway` command that buys time for f, ""
// when none applies (no sequence, or on a runway already).
func (f *Finding) RunwayCommand() string {
	if f.target == nil || f.Kind != KindColumn || f.Sequence == "" || f.Runway != nil {
		return ""
	}
	t := f.target
	return fmt.Sprintf("pgwiden runway --schema %s --table %s --column %s --dry-run", shellQuote(t.Table.Schema), shellQuote(t.Table.Name), shellQuote(t.Column))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Report is the outcome of one audit run, as rendered by WriteText and
// WriteJSON.
type Report struct {
	Database  string
	TakenAt   time.Time
	Threshold float64
	// RatesFrom says where growth rates came from: "sample", "history" or
	// "" (none).
	RatesFrom string
	// Pace is the copy rate the migration estimates use.
	Pace     Pace
	Findings []Finding
}

// Unknown counts the findings whose value could not be read.
func (r *Report) Unknown() int { return r.count(func(f *Finding) bool { return f.Unknown }) }

// StartByPassed counts the findings whose start-by date has passed.
func (r *Report) StartByPassed() int {
	return r.count(func(f *Finding) bool { return f.StartByPassed(r.TakenAt) })
}

// Above counts the findings above the report's threshold.
func (r *Report) Above() int { return r.count(func(f *Finding) bool { return f.Above(r.Threshold) }) }

func (r *Report) count(match func(*Finding) bool) int {
	n := 0
	for i := range r.Findings {
		if match(&r.Findings[i]) {
			n++
		}
	}
	return n
}

// Sort orders findings most urgent first: those with a start-by date (or,
// when the migration's duration is unknown, an exhaustion date) by that
// date, a passed one first, then the rest by the fraction used. Ties put a
// key before the foreign keys that share its value, then go by name, so
// that the output is stable.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		ua, ub := a.urgency(), b.urgency()
		switch {
		case ua != nil && ub == nil:
			return -1
		case ua == nil && ub != nil:
			return 1
		case ua != nil && !ua.Equal(*ub):
			return ua.Compare(*ub)
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

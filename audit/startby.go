package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// Pace is the rate, in rows per second, at which a migration is expected
// to walk its tables, and where that figure comes from.
type Pace struct {
	RowsPerSecond float64
	// From says where the figure comes from, for the report: "--rate",
	// "the backfill of migration 7 (...)" or the default.
	From string
}

// DefaultPace is used when the operator gives no --rate and the database
// records no backfill. It is deliberately slow: a throttled backfill
// behind a busy application copies a few thousand rows a second, often
// more; planning for less only makes the start-by date earlier.
var DefaultPace = Pace{RowsPerSecond: 1000, From: "default, conservative: give --rate, or run pgwiden rehearse on a copy"}

// walks is how many times a migration walks every row: the backfill
// copies it, the cutover's verification reads it again.
const walks = 2

// PaceFromTasks derives a pace from one migration's recorded backfill
// tasks: the rows they walked over the time they took. false when the
// migration has no finished backfill to learn from.
func PaceFromTasks(tasks []state.Task) (float64, bool) {
	var rows int64
	var secs float64
	for _, t := range tasks {
		if !strings.HasPrefix(t.StepID, string(planner.Backfill)+"/") || !t.Done || t.StartedAt == nil || t.UpdatedAt == nil {
			continue
		}
		rows += t.RowsDone
		secs += t.UpdatedAt.Sub(*t.StartedAt).Seconds()
	}
	if rows == 0 || secs <= 0 {
		return 0, false
	}
	return float64(rows) / secs, true
}

// ApplyStartBy estimates, for each finding, how long widening it takes at
// pace (every row of its closure walked twice: copy and verification) and
// from that and its exhaustion date the date to start by. A standalone
// sequence needs only ALTER SEQUENCE ... AS bigint: no time at all.
func ApplyStartBy(fs []Finding, snap *catalog.Snapshot, pace Pace) {
	rows := map[string]float64{} // by Target.String(): a Target holds a slice
	for i := range fs {
		f := &fs[i]
		var secs float64
		if f.target != nil {
			n, ok := rows[f.target.String()]
			if !ok {
				n = closureRows(snap, *f.target)
				rows[f.target.String()] = n
			}
			if n < 0 {
				continue
			}
			secs = walks * n / pace.RowsPerSecond
		}
		f.MigrationSeconds = &secs
		if f.ExhaustsAt != nil {
			at := f.ExhaustsAt.Add(-time.Duration(secs * float64(time.Second))).Truncate(time.Second)
			f.StartBy = &at
		}
	}
}

// closureRows is the estimated row count of the tables widening t changes,
// -1 when it cannot be planned (the planner says why in `pgwiden plan`) or
// when a table that holds data was never analyzed: its row count is then
// unknown, and a guess could put the start-by date too late.
func closureRows(snap *catalog.Snapshot, t planner.Target) float64 {
	p, err := planner.Build(snap, t)
	if err != nil {
		return -1
	}
	for _, tc := range p.Tables {
		for _, name := range append([]catalog.QName{tc.Table}, tc.Leaves...) {
			// reltuples is -1 when never analyzed from PostgreSQL 14 on,
			// 0 before: a table with pages and no rows counted is unknown.
			if tab := snap.Table(name); tab != nil && tab.RowEstimate <= 0 && tab.TableBytes > 0 {
				return -1
			}
		}
	}
	return p.Estimates.Rows
}

// describeDuration formats a migration estimate for people: "40s", "3h",
// "2.5d".
func describeDuration(secs float64) string {
	d := time.Duration(secs * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.0fm", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	}
	return fmt.Sprintf("%.1fd", d.Hours()/24)
}

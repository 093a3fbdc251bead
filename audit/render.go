package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// FormatVersion is the version of the JSON output of `pgwiden audit --json`
// described here. Keys are stable; a key is never dropped, unknown values
// are null. New keys may be added.
//
//	{
//	  "findings": [                      // most urgent first; every audited object, also those below the threshold
//	    {
//	      "object": "public.tags.id",    // schema.table.column, or schema.sequence for kind "sequence"
//	      "kind": "column",              // "column" | "sequence" | "fk-to-wider-key"
//	      "type": "integer",             // smallint | integer | bigint (of the column, or of the sequence)
//	      "sequence": "public.tags_id_seq", // sequence feeding the column, "" when none
//	      "limit": 2147483647,           // last value that fits: min(type max, sequence max); negative for a descending sequence
//	      "current": 2000000000,         // null when unknown (no usable index, no privilege, sequence unused)
//	      "used": 0.931323,              // current/limit (fraction, 0 when unknown; > 1 when already past the limit)
//	      "per_day": 1000000,            // values used per day towards the limit, from --sample or history; 0 when not growing; null when unknown
//	      "exhausts_at": "2026-07-14T09:30:00Z", // RFC 3339 UTC; summary.taken_at when already at/past the limit;
//	                                     // null when unknown, not growing or > 100 years away
//	      "migration_s": 5400,           // estimated time to widen it: 2 x its closure's rows / summary.pace_rows_per_s;
//	                                     // 0 for a standalone sequence; null when it cannot be planned
//	      "start_by": "2026-07-13T19:36:27Z", // exhausts_at - migration_s: start the migration before; null when unknown
//	      "runway": null,                // on the emergency runway (pgwiden runway): {"sequence", "from", "to",
//	                                     // "last", "left", "used"}; limit is then "to" and used the runway's fraction
//	      "unknown": false,              // the value could not be read for lack of privilege (note says on what)
//	      "note": "",                    // where the value came from, or why it is unknown
//	      "above_threshold": true        // used > summary.threshold, or on a runway
//	    }
//	  ],
//	  "summary": {
//	    "format_version": 1,
//	    "database": "app",
//	    "taken_at": "2026-02-16T09:30:00Z",
//	    "threshold": 0.5,                // --threshold
//	    "rates_from": "history",         // "sample" | "history" | "" (no rates)
//	    "findings": 9,                   // number of findings
//	    "above_threshold": 3,            // number with above_threshold true; exit status 3 when > 0
//	    "unknown": 0,                    // number with unknown true; exit status 6 when > 0 and nothing is above
//	    "start_by_passed": 1,            // number whose start_by is at or before taken_at
//	    "pace_rows_per_s": 1000,         // the rate migration_s assumes
//	    "pace_from": "--rate",           // where it comes from: --rate, a recorded backfill, or the default
//	    "most_urgent": "public.tags.id"  // first finding's object, null when there are none
//	  }
//	}
const FormatVersion = 1

type jsonFinding struct {
	Finding
	AboveThreshold bool `json:"above_threshold"`
}

type jsonSummary struct {
	FormatVersion  int       `json:"format_version"`
	Database       string    `json:"database"`
	TakenAt        time.Time `json:"taken_at"`
	Threshold      float64   `json:"threshold"`
	RatesFrom      string    `json:"rates_from"`
	Findings       int       `json:"findings"`
	AboveThreshold int       `json:"above_threshold"`
	Unknown        int       `json:"unknown"`
	StartByPassed  int       `json:"start_by_passed"`
	PaceRowsPerS   float64   `json:"pace_rows_per_s"`
	PaceFrom       string    `json:"pace_from"`
	MostUrgent     *string   `json:"most_urgent"`
}

// WriteJSON writes r in the format documented above.
func WriteJSON(w io.Writer, r *Report) error {
	out := struct {
		Findings []jsonFinding `json:"findings"`
		Summary  jsonSummary   `json:"summary"`
	}{Findings: []jsonFinding{}}
	for _, f := range r.Findings {
		f.Used = math.Round(f.Used*1e6) / 1e6
		if f.PerDay != nil {
			p := math.Round(*f.PerDay*100) / 100
			f.PerDay = &p
		}
		out.Findings = append(out.Findings, jsonFinding{Finding: f, AboveThreshold: f.Above(r.Threshold)})
	}
	out.Summary = jsonSummary{
		FormatVersion: FormatVersion, Database: r.Database, TakenAt: r.TakenAt.UTC().Truncate(time.Second),
		Threshold: r.Threshold, RatesFrom: r.RatesFrom, Findings: len(r.Findings), AboveThreshold: r.Above(),
		Unknown: r.Unknown(), StartByPassed: r.StartByPassed(), PaceRowsPerS: r.Pace.RowsPerSecond, PaceFrom: r.Pace.From,
	}
	if len(r.Findings) > 0 {
		out.Summary.MostUrgent = &r.Findings[0].Object
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write audit report: %w", err)
	}
	return nil
}

// WriteText writes r as a table for people, findings above the threshold
// marked with "!".
func WriteText(w io.Writer, r *Report) error {
	rates := "no growth rates (use --sample 30s, or --record from cron)"
	if r.RatesFrom != "" {
		rates = "rates from " + r.RatesFrom
	}
	fmt.Fprintf(w, "pgwiden audit of %q at %s, threshold %s, %s\n", r.Database, r.TakenAt.UTC().Format("2006-01-02 15:04:05 UTC"), percent(r.Threshold), rates)
	fmt.Fprintf(w, "start by = exhaustion - migration time (2 x closure rows at %s rows/s: %s)\n\n",
		strconv.FormatFloat(r.Pace.RowsPerSecond, 'f', -1, 64), r.Pace.From)
	if len(r.Findings) == 0 {
		_, err := fmt.Fprintln(w, "No smallint/integer keys or sequences found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  OBJECT\tKIND\tTYPE\tSEQUENCE\tLIMIT\tCURRENT\tUSED\tPER DAY\tEXHAUSTS\tMIGRATION\tSTART BY\tNOTE")
	for i := range r.Findings {
		f := &r.Findings[i]
		mark := "  "
		if f.Above(r.Threshold) {
			mark = "! "
		}
		cur := "unknown"
		if f.Current != nil {
			cur = strconv.FormatInt(*f.Current, 10)
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, f.Object, f.Kind, f.Type, dash(f.Sequence),
			f.Limit, cur, percent(f.Used), perDay(f.PerDay), exhausts(f.ExhaustsAt, r.TakenAt), migration(f.MigrationSeconds),
			startBy(f.StartBy, r.TakenAt), f.Note)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write audit report: %w", err)
	}
	fmt.Fprintf(w, "\n%d of %d above %s (marked !).\n", r.Above(), len(r.Findings), percent(r.Threshold))
	writeUrgent(w, r)
	if n := r.Unknown(); n > 0 {
		fmt.Fprintf(w, "%d could not be read for lack of privilege (exit status 6 unless something is above): grant SELECT on them, or run audit as their owner.\n", n)
	}
	return nil
}

// writeUrgent names the findings whose start-by date has passed: the
// migration may not finish before the ids run out.
func writeUrgent(w io.Writer, r *Report) {
	for i := range r.Findings {
		f := &r.Findings[i]
		if !f.StartByPassed(r.TakenAt) {
			continue
		}
		when := "runs out " + exhausts(f.ExhaustsAt, r.TakenAt)
		if !f.ExhaustsAt.After(r.TakenAt) {
			when = "has run out"
		}
		fmt.Fprintf(w, "START BY PASSED: %s %s; widening it takes about %s.", f.Object, when, migration(f.MigrationSeconds))
		if cmd := f.RunwayCommand(); cmd != "" {
			fmt.Fprintf(w, " Start now, and consider the emergency runway to buy time: %s (read docs/runway.md).", cmd)
		} else if f.Runway != nil {
			fmt.Fprintf(w, " It is on the runway already: widen it now.")
		} else {
			fmt.Fprintf(w, " Start now.")
		}
		fmt.Fprintln(w)
	}
}

func migration(secs *float64) string {
	if secs == nil {
		return "-"
	}
	return describeDuration(*secs)
}

// startBy shows the date, or "PASSED" when it is now or earlier.
func startBy(at *time.Time, now time.Time) string {
	switch {
	case at == nil:
		return "-"
	case !at.After(now):
		return "PASSED"
	}
	return at.UTC().Format(time.DateOnly)
}

func percent(f float64) string {
	if f > 0 && f < 0.0005 {
		return "<0.1%" // not "0%": the value is there, just small
	}
	return strings.TrimSuffix(strconv.FormatFloat(f*100, 'f', 1, 64), ".0") + "%"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func perDay(p *float64) string {
	switch {
	case p == nil:
		return "-"
	case *p == 0:
		return "0"
	case math.Abs(*p) >= 100:
		return strconv.FormatFloat(*p, 'f', 0, 64)
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

// exhausts shows the date and the days left, or "exhausted" when the limit
// is already reached.
func exhausts(at *time.Time, now time.Time) string {
	if at == nil {
		return "-"
	}
	days := at.Sub(now).Hours() / 24
	if days <= 0 {
		return "exhausted"
	}
	return fmt.Sprintf("%s (%.0fd)", at.UTC().Format(time.DateOnly), math.Floor(days))
}

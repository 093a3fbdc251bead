package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pgwiden/pgwiden/internal/format"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/runway"
	"github.com/pgwiden/pgwiden/state"
)

// statusFormatVersion is the version of `status --json`; bump it on any
// incompatible change.
const statusFormatVersion = 1

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "list the migrations in this database: phase, progress per table, who is running them (read-only)",
		Description: "Newest first. Works, and creates nothing, in a database pgwiden has never changed (it prints\n" +
			"\"no migrations\"). It never takes a migration's lock, so it can run while a phase does.\n" +
			"With --table and --column, shows the newest migration of that column in detail: its tables and\n" +
			"every step of its plan, done or still to do.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print as JSON (stable format with format_version, snake_case keys)"},
			&cli.StringFlag{Name: "schema", Value: "public", Usage: "with --table and --column: schema of the target table"},
			&cli.StringFlag{Name: "table", Usage: "show the migration of this table's --column only, in detail"},
			&cli.StringFlag{Name: "column", Usage: "show the migration of --table's column only, in detail"},
		},
		Before: func(c *cli.Context) error {
			if (c.String("table") == "") != (c.String("column") == "") {
				return usageError("status: give --table and --column together (or neither, to list every migration)")
			}
			return nil
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("status: %s (see pgwiden status --help)", err)
		},
		Action: withEnv(runStatus),
	}
}

func runStatus(ctx context.Context, e *env, c *cli.Context) error {
	st, err := state.Open(ctx, e.pool, e.log)
	if err != nil {
		return err
	}
	all, err := migrator.ReadStatus(ctx, e.pool, st)
	if err != nil {
		return err
	}
	if c.String("table") != "" {
		return runStatusOf(ctx, e, c, st, all)
	}
	runways, err := readRunways(ctx, e, all)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		err = encodeJSON(e.stdout, statusJSON(all, runways))
	} else {
		err = writeStatus(e.stdout, all, runways)
	}
	if err != nil {
		return fmt.Errorf("print status: %w", err)
	}
	return nil
}

// statusDoc is the --json format. Field names and meanings are stable;
// new fields may be added within a format_version.
type statusDoc struct {
	FormatVersion int             `json:"format_version"`
	Migrations    []migrationJSON `json:"migrations"`
}

type migrationJSON struct {
	ID        int64     `json:"id"`
	Target    string    `json:"target"`
	Schema    string    `json:"schema"`
	Table     string    `json:"table"`
	Column    string    `json:"column"`
	Phase     string    `json:"phase"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	LastError string    `json:"last_error"`
	Paused    bool      `json:"paused"`
	MaxRate   *int      `json:"max_rate"`
	// Throttled is why the running phase waits now ("" when it runs freely
	// or nothing runs it): the state its process recorded last, shown only
	// while that process holds the migration's lock.
	Throttled string     `json:"throttled"`
	Holder    *holder    `json:"holder"`
	Tasks     []taskJSON `json:"tasks"`
	// Runway is the emergency runway the target's sequence is on (pgwiden
	// runway), null when none; read for unfinished migrations only.
	Runway *runway.Status `json:"runway"`
	// Drift lists what changed in the migration's tables since prepare.
	Drift []planner.DriftChange `json:"drift"`
	// Steps is every step of the plan, with --table and --column only.
	Steps []stepJSON `json:"steps,omitempty"`
}

type holder struct {
	PID             int        `json:"pid"`
	ApplicationName string     `json:"application_name"`
	ClientAddr      string     `json:"client_addr"`
	ClientHostname  string     `json:"client_hostname"`
	Since           *time.Time `json:"since"`
}

type taskJSON struct {
	StepID       string     `json:"step_id"`
	Table        string     `json:"table"`
	RowsDone     int64      `json:"rows_done"`
	RowsEstimate *int64     `json:"rows_estimate"` // null when unknown
	Percent      *float64   `json:"percent"`       // null when the estimate is unknown
	RowsPerS     float64    `json:"rows_per_s"`
	ETAS         *int64     `json:"eta_s"` // null when done or unknown
	Done         bool       `json:"done"`
	StartedAt    *time.Time `json:"started_at"`
	UpdatedAt    *time.Time `json:"updated_at"`
	// Slices and SlicesDone: a walk in slices (--workers); absent for one.
	Slices     int `json:"slices,omitempty"`
	SlicesDone int `json:"slices_done,omitempty"`
}

func statusJSON(all []migrator.Status, runways map[int64]*runway.Status) statusDoc {
	doc := statusDoc{FormatVersion: statusFormatVersion, Migrations: []migrationJSON{}}
	for _, s := range all {
		j := s.Job
		m := migrationJSON{ID: j.ID, Target: j.Target.String(), Schema: j.Target.Table.Schema, Table: j.Target.Table.Name,
			Column: j.Target.Column, Phase: string(j.Phase), CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
			LastError: j.LastError, Paused: j.Paused, MaxRate: j.MaxRate, Throttled: throttledNow(s), Tasks: []taskJSON{},
			Runway: runways[j.ID], Drift: append([]planner.DriftChange{}, s.Drift...)}
		if h := s.Holder; h != nil {
			m.Holder = &holder{PID: h.PID, ApplicationName: h.ApplicationName, ClientAddr: h.ClientAddr, ClientHostname: h.ClientHostname}
			if !h.Since.IsZero() {
				m.Holder.Since = &h.Since
			}
		}
		for _, t := range s.Tasks {
			tj := taskJSON{StepID: t.StepID, Table: t.Table, RowsDone: t.RowsDone, RowsPerS: math.Round(t.Rate*10) / 10,
				Done: t.Done, StartedAt: t.StartedAt, UpdatedAt: t.UpdatedAt, Slices: t.Slices, SlicesDone: t.SlicesDone}
			if t.RowsEstimate >= 0 {
				tj.RowsEstimate = &t.RowsEstimate
			}
			if t.Percent >= 0 {
				p := math.Round(t.Percent*10) / 10
				tj.Percent = &p
			}
			if t.ETA > 0 {
				s := int64(math.Ceil(t.ETA.Seconds()))
				tj.ETAS = &s
			}
			m.Tasks = append(m.Tasks, tj)
		}
		doc.Migrations = append(doc.Migrations, m)
	}
	return doc
}

// writeStatus prints the migrations as a table, then each one's tasks.
func writeStatus(w io.Writer, all []migrator.Status, runways map[int64]*runway.Status) error {
	if len(all) == 0 {
		_, err := fmt.Fprintln(w, "no migrations")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTARGET\tPHASE\tCREATED\tUPDATED\tRUNNING\tLAST ERROR")
	for _, s := range all {
		j := s.Job
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Target, j.Phase, j.CreatedAt.Local().Format(time.DateTime),
			j.UpdatedAt.Local().Format(time.DateTime), describeHolder(s.Holder), orDash(oneLine(j.LastError)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range all {
		control := throttleLines(s)
		if r := runways[s.Job.ID]; r != nil {
			control = append(control, runwayLine(r))
		}
		if len(s.Tasks) == 0 && len(control) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nmigration %d (%s):\n", s.Job.ID, s.Job.Target)
		for _, l := range control {
			fmt.Fprintln(w, l)
		}
		if err := writeTasks(w, s.Tasks); err != nil {
			return err
		}
	}
	return nil
}

// writeTasks prints the progress of a migration's batched steps, if any.
func writeTasks(w io.Writer, tasks []migrator.TaskStatus) error {
	if len(tasks) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSTEP\tROWS DONE\tESTIMATE\tDONE %\tROWS/S\tETA\tDONE")
	for _, t := range tasks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Table, stepKind(t.StepID), format.Count(float64(t.RowsDone)),
			estimate(t.RowsEstimate), percent(t.Percent), format.Count(t.Rate), eta(t), doneText(t))
	}
	return tw.Flush()
}

func describeHolder(h *migrator.Holder) string {
	if h == nil {
		return "-"
	}
	s := fmt.Sprintf("pid %d", h.PID)
	var about []string
	if h.ApplicationName != "" {
		about = append(about, h.ApplicationName)
	}
	if h.ClientAddr != "" {
		about = append(about, h.ClientAddr)
	}
	if len(about) > 0 {
		s += " (" + strings.Join(about, ", ") + ")"
	}
	return s
}

// stepKind is "copy" or "verify" from "backfill/copy/public.tags".
func stepKind(id string) string { return planner.StepID(id).Kind() }

func estimate(n int64) string {
	if n < 0 {
		return "?"
	}
	return format.Count(float64(n))
}

func percent(p float64) string {
	if p < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f%%", p)
}

func eta(t migrator.TaskStatus) string {
	if t.Done || t.ETA <= 0 {
		return "-"
	}
	return format.Duration(t.ETA.Round(time.Second))
}

// doneText says whether a task is done; for a walk in slices under way,
// how many of them are ("3 of 4 slices").
func doneText(t migrator.TaskStatus) string {
	if t.Slices > 0 && !t.Done {
		return fmt.Sprintf("%d of %d slices", t.SlicesDone, t.Slices)
	}
	return yesNo(t.Done)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// throttledNow is the throttle state the running phase recorded, "" when
// no process runs the migration: a killed process leaves its last state.
func throttledNow(s migrator.Status) string {
	if s.Holder == nil {
		return ""
	}
	return s.Job.Throttled
}

// throttleLines say how the migration is paced: the running phase's
// throttle state, and what pgwiden pause and throttle have set. A
// finished migration and an unthrottled one idle between phases get none.
func throttleLines(s migrator.Status) []string {
	var out []string
	if s.Holder != nil && isWalking(s.Job.Phase) {
		out = append(out, "throttle: "+orWord(throttledNow(s), "none, running at full pace"))
	}
	if s.Job.Phase.Finished() {
		return out
	}
	if s.Job.Paused {
		out = append(out, "paused:   yes, by pgwiden pause (pgwiden resume continues)")
	}
	if r := s.Job.MaxRate; r != nil {
		out = append(out, fmt.Sprintf("max rate: %d rows/s, by pgwiden throttle (--max-rate 0 clears it)", *r))
	}
	for _, d := range s.Drift {
		out = append(out, "drift:    "+d.String())
	}
	return out
}

// isWalking reports whether a phase walks tables in batches, paced by the
// throttle: the backfill, the cutover's verification, a rollback's.
func isWalking(p state.Phase) bool {
	return p == state.PhaseBackfilling || p == state.PhaseCuttingOver || p == state.PhaseRollingBack
}

func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}

package rehearsal

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pgwiden/pgwiden/internal/format"
)

// WriteMarkdown writes the report for people: a change review reads it
// top to bottom, result first, figures next, the full plan last.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	mdHeader(&b, r)
	mdPlan(&b, r)
	mdPhases(&b, r)
	mdWalks(&b, r)
	mdLocks(&b, r)
	mdDisk(&b, r)
	mdLoad(&b, r)
	mdWarnings(&b, r)
	mdSchema(&b, r)
	mdExtrapolation(&b, r)
	mdNotes(&b, r)
	mdPlanText(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// mdPlanText shows `pgwiden plan`'s summary; the SQL of every step is in
// the JSON report's plan_text, and `pgwiden plan` prints it.
func mdPlanText(b *strings.Builder, r *Report) {
	text, _, cut := strings.Cut(r.PlanText, "\n== ")
	fmt.Fprintf(b, "\n<details><summary>The plan, as <code>pgwiden plan</code> printed it before prepare</summary>\n\n```text\n%s\n```\n", strings.TrimRight(text, "\n"))
	if cut {
		fmt.Fprintf(b, "\nThe SQL of every step is left out here: `pgwiden plan --schema %s --table %s --column %s` prints it, and the JSON report has it (`plan_text`).\n",
			r.Plan.Target.Table.Schema, r.Plan.Target.Table.Name, r.Plan.Target.Column)
	}
	b.WriteString("\n</details>\n")
}

func mdHeader(b *strings.Builder, r *Report) {
	fmt.Fprintf(b, "# pgwiden rehearsal: widen %s to bigint\n\n", r.Target)
	if r.Passed {
		end := "then the rollback left the schema as it was"
		if r.Kept {
			end = "and the columns were kept as bigint (--keep)"
		}
		fmt.Fprintf(b, "**Result: passed.** Every phase ran, the verification passed, %s.\n\n", end)
	} else {
		fmt.Fprintf(b, "**Result: FAILED.**\n\n")
		for _, p := range r.Problems {
			fmt.Fprintf(b, "- %s\n", p)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "| | |\n|---|---|\n")
	fmt.Fprintf(b, "| Database | `%s`, PostgreSQL %s |\n", r.Database, serverVersion(r.ServerVersion))
	fmt.Fprintf(b, "| Staging check | %s |\n", cell(r.StagingCheck))
	fmt.Fprintf(b, "| Ran | %s to %s (%s) |\n", r.StartedAt.Format("2006-01-02 15:04:05"), r.FinishedAt.Format("15:04:05 MST"),
		secs(r.FinishedAt.Sub(r.StartedAt).Seconds()))
	s := r.Settings
	rate := "no rate limit"
	if s.MaxRate > 0 {
		rate = "at most " + format.Rate(s.MaxRate, "rows")
	}
	fmt.Fprintf(b, "| Settings | batches of %s rows, %s, lock_timeout %s, scan lock_timeout %s, statement_timeout %s, %d swap attempts at most |\n",
		format.Count(float64(s.BatchSize)), rate, s.LockTimeout, s.ScanLockTimeout, s.StatementTimeout, s.SwapAttempts)
	if r.Migration > 0 {
		fmt.Fprintf(b, "| Migration | %d in schema pgwiden, left %s |\n", r.Migration, strings.ReplaceAll(r.FinalPhase, "_", " "))
	}
}

func mdPlan(b *strings.Builder, r *Report) {
	p := r.Plan
	fmt.Fprintf(b, "\n## Plan\n\n| Table | Columns | Rows (estimate) | Size |\n|---|---|--:|--:|\n")
	for _, t := range p.Tables {
		var cols []string
		for _, c := range t.Columns {
			cols = append(cols, fmt.Sprintf("`%s` %s (%s)", c.Name, c.Type, c.Why))
		}
		name := t.Table.String()
		if t.Partitioned {
			name += fmt.Sprintf(" (partitioned, %d leaves)", len(t.Leaves))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", cell(name), cell(strings.Join(cols, ", ")), format.Count(t.Rows), format.Bytes(t.Bytes))
	}
	for _, s := range p.Sequences {
		fmt.Fprintf(b, "\nSequence %s: %s -> bigint (feeds %s.%s).", s.Sequence, s.From, s.Feeds.Table, s.Feeds.Column)
	}
	fmt.Fprintf(b, "\n\n%d steps, %d blockers, %d warnings (listed under Warnings). The plan estimated extra disk up to %s.\n",
		p.Steps, len(p.Blockers), len(p.Warnings), format.Bytes(p.Estimates.ExtraBytes))
}

func mdPhases(b *strings.Builder, r *Report) {
	fmt.Fprintf(b, "\n## Phases\n\n| Phase | Duration | WAL written | Closure size after | Result |\n|---|--:|--:|--:|---|\n")
	for _, p := range r.Phases {
		res := "ok"
		if !p.OK {
			res = "**failed**: " + cell(p.Error)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", p.Name, secs(p.Seconds), optBytes(p.WALBytes), format.Bytes(p.TotalBytes), res)
	}
	fmt.Fprintf(b, "| total | %s | %s | | |\n", secs(sumSeconds(r.Phases)), optBytes(r.WALBytes))
	b.WriteString("\nWAL is the whole server's, between the start and the end of each phase: anything else writing meanwhile is included.\n")
}

func mdWalks(b *strings.Builder, r *Report) {
	f := r.Backfill
	fmt.Fprintf(b, "\n## Backfill\n\n%s rows walked, %s copied in %s: **%s** over the phase.\n\n",
		format.Count(float64(f.Rows)), format.Count(float64(f.Copied)), secs(f.Seconds), format.Rate(f.RowsPerS, "rows"))
	mdWalkTable(b, f)
	v := r.Verification
	fmt.Fprintf(b, "\n## Verification\n\n**%s**\n", v.Detail)
	if len(v.Walk.Tables) > 0 {
		b.WriteString("\n")
		mdWalkTable(b, v.Walk)
	}
	if v.RollbackFits != nil {
		fmt.Fprintf(b, "\nThe rollback's check that every value fits the old type (before the swap back): %s rows.\n", format.Count(float64(v.RollbackFits.Rows)))
	}
}

func mdWalkTable(b *strings.Builder, w WalkSummary) {
	b.WriteString("| Table | Rows | Copied | Batches | Time | Rows/s |\n|---|--:|--:|--:|--:|--:|\n")
	for _, t := range w.Tables {
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s | %s |\n", cell(t.Table), format.Count(float64(t.Rows)), format.Count(float64(t.Copied)), t.Batches, secs(t.Seconds), format.Count(t.RowsPerS))
	}
}

func mdLocks(b *strings.Builder, r *Report) {
	l := r.Locks
	b.WriteString("\n## Locks that block writes\n\n")
	if l.Swap != nil {
		fmt.Fprintf(b, "- **The swap**: %d attempt(s); its transaction (ACCESS EXCLUSIVE on every table and view of the closure) lasted %s.\n", l.Swap.Attempts, msText(l.Swap.HeldMS))
	} else {
		b.WriteString("- **The swap**: did not run.\n")
	}
	if l.SwapBack != nil {
		fmt.Fprintf(b, "- **The swap back** (rollback): %d attempt(s), %s.\n", l.SwapBack.Attempts, msText(l.SwapBack.HeldMS))
	}
	for _, s := range l.Longest {
		fmt.Fprintf(b, "- Longest %s step: %s (%s).\n", s.Lock, msText(s.TookMS), s.Step)
	}
	if len(l.Steps) > 0 {
		b.WriteString("\n| Phase | Steps that blocked writes | Longest | Longest step |\n|---|--:|--:|---|\n")
		for _, ph := range r.Phases {
			n, top := 0, StepTiming{}
			for _, s := range l.Steps {
				if s.Phase == ph.Name {
					n++
					if s.TookMS >= top.TookMS {
						top = s
					}
				}
			}
			if n > 0 {
				fmt.Fprintf(b, "| %s | %d | %s | %s (%s) |\n", ph.Name, n, msText(top.TookMS), cell(top.Step), top.Lock)
			}
		}
		b.WriteString("\n<details><summary>Every step that took a lock blocking writes</summary>\n\n| Phase | Step | Lock | Took |\n|---|---|---|--:|\n")
		for _, s := range l.Steps {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", s.Phase, cell(s.Step), s.Lock, msText(s.TookMS))
		}
		b.WriteString("\n</details>\n")
	}
	b.WriteString("\nA step's time runs from its first attempt to its commit, lock waits and retries included: it bounds how long the step held its lock. " +
		"Each statement waited at most lock_timeout for its lock, and the application queued behind it no longer than that.\n")
}

func mdDisk(b *strings.Builder, r *Report) {
	d := r.Disk
	fmt.Fprintf(b, "\n## Disk\n\nThe closure's tables and indexes took %s before prepare and %s at most (after %s): **%s extra** (the plan estimated up to %s). "+
		"Dead row versions stay until vacuum; the old columns' space stays until cleanup and the rows' next rewrite.\n\n",
		format.Bytes(d.BeforeBytes), format.Bytes(d.PeakBytes), d.PeakAfter, format.Bytes(d.ExtraBytes), format.Bytes(d.PlanEstimate))
	b.WriteString("| Table | Before (table + indexes) |")
	for _, p := range r.Phases {
		fmt.Fprintf(b, " After %s |", p.Name)
	}
	b.WriteString("\n|---|--:|" + strings.Repeat("--:|", len(r.Phases)) + "\n")
	for i, s := range d.Before {
		fmt.Fprintf(b, "| %s | %s + %s |", cell(s.Table), format.Bytes(s.TableBytes), format.Bytes(s.IndexBytes))
		for _, p := range r.Phases {
			if i < len(p.Sizes) {
				fmt.Fprintf(b, " %s + %s |", format.Bytes(p.Sizes[i].TableBytes), format.Bytes(p.Sizes[i].IndexBytes))
			} else {
				b.WriteString(" - |")
			}
		}
		b.WriteString("\n")
	}
}

func mdLoad(b *strings.Builder, r *Report) {
	if len(r.Load) == 0 {
		return
	}
	b.WriteString("\n## Load during the rehearsal\n")
	for _, l := range r.Load {
		fmt.Fprintf(b, "\n%s load, %s: `%s`\n\n", l.Name, format.Rate(l.Rate, "statements"), l.SQL)
		b.WriteString("| Phase | Statements | Errors | Skipped | p50 | p99 | max |\n|---|--:|--:|--:|--:|--:|--:|\n")
		for _, p := range l.Phases {
			fmt.Fprintf(b, "| %s | %d | %d | %d | %s | %s | %s |\n", p.Phase, p.Statements, p.Errors, p.Skipped, msText(p.P50MS), msText(p.P99MS), msText(p.MaxMS))
		}
	}
	b.WriteString("\nSkipped statements were due while all of the load's 4 connections still waited on earlier ones: the load fell behind its rate.\n")
}

func mdWarnings(b *strings.Builder, r *Report) {
	b.WriteString("\n## Warnings\n\n")
	if len(r.Warnings) == 0 {
		b.WriteString("None: the plan had no warnings, the migrator logged none and the load met no errors.\n")
		return
	}
	for _, w := range r.Warnings {
		where := w.Phase + ", " + w.Source
		if w.Phase == w.Source {
			where = w.Phase
		}
		line := fmt.Sprintf("- [%s] %s", where, w.Message)
		if w.Detail != "" {
			line += ": " + w.Detail
		}
		b.WriteString(line + "\n")
	}
}

func mdSchema(b *strings.Builder, r *Report) {
	c := r.SchemaCheck
	b.WriteString("\n## Schema after the rollback\n\n")
	switch {
	case c == nil:
		b.WriteString("Not checked.\n")
		return
	case r.Kept:
		b.WriteString("Not compared: --keep left the migration cut over.\n")
	case !c.Checked:
		b.WriteString("Not compared: the rollback did not complete.\n")
	case c.Identical:
		fmt.Fprintf(b, "**Identical** to the schema before prepare (%s).\n", schemaMethod(c))
	default:
		fmt.Fprintf(b, "**Differs** from the schema before prepare (%s):\n\n```text\n%s```\n", schemaMethod(c), c.Diff)
	}
	if c.Fallback != "" {
		fmt.Fprintf(b, "\npg_dump was not used: %s.\n", c.Fallback)
	}
	fmt.Fprintf(b, "\nObjects compared: %s.\n", strings.Join(c.Objects, ", "))
}

func schemaMethod(c *SchemaCheck) string {
	if c.Method == "pg_dump" {
		return "`pg_dump --schema-only` of the objects below, " + c.Tool
	}
	return "pgwiden's catalog snapshot of the objects below, sizes and statistics left out"
}

func mdExtrapolation(b *strings.Builder, r *Report) {
	x := r.Extrapolation
	b.WriteString("\n## Extrapolation to production\n\n")
	if x == nil {
		b.WriteString("None: pass --production-dsn (read-only catalog statistics) or --production-rows.\n")
		return
	}
	b.WriteString("| Table | Rows staging | Rows production | x | Indexes staging | Indexes production | x |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range x.Tables {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", cell(t.Table), format.Count(t.Staging.Rows), prodRows(t.Production), factor(t.RowFactor),
			format.Bytes(t.Staging.IndexBytes), format.Bytes(t.Production.IndexBytes), factor(t.IndexFactor))
	}
	b.WriteString("\n| Phase | Staging | Production (estimate) |\n|---|--:|--:|\n")
	for _, p := range x.Phases {
		fmt.Fprintf(b, "| %s | %s | **%s** |\n", p.Name, secs(p.StagingSeconds), secs(p.ProductionSeconds))
	}
	fmt.Fprintf(b, "| total | %s | **%s** |\n", secs(x.StagingSeconds), secs(x.ProductionSeconds))
	fmt.Fprintf(b, "\nExtra disk in production: about %s; WAL: about %s (closure %s the size of staging's).\n\nAssumptions:\n\n",
		format.Bytes(x.ExtraDiskBytes), format.Bytes(x.WALBytes), factor(x.BytesFactor))
	for _, a := range x.Assumptions {
		fmt.Fprintf(b, "- %s\n", a)
	}
}

func mdNotes(b *strings.Builder, r *Report) {
	if len(r.Notes) == 0 {
		return
	}
	b.WriteString("\n## Notes\n\n")
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
}

func prodRows(s Size) string {
	switch {
	case !s.Found:
		return "not found"
	case !s.RowsKnown:
		return "never analyzed"
	}
	return format.Count(s.Rows)
}

// cell makes text safe inside a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func sumSeconds(ps []PhaseResult) float64 {
	var s float64
	for _, p := range ps {
		s += p.Seconds
	}
	return s
}

// secs writes a duration given in seconds (format.Duration).
func secs(s float64) string { return format.Duration(time.Duration(s * float64(time.Second))) }

// msText writes a duration given in milliseconds (format.Duration).
func msText(m float64) string { return format.Duration(time.Duration(m * float64(time.Millisecond))) }

func optBytes(n *int64) string {
	if n == nil {
		return "n/a"
	}
	return format.Bytes(*n)
}

func factor(f float64) string {
	if f >= 10 {
		return fmt.Sprintf("%.0fx", f)
	}
	return fmt.Sprintf("%.2fx", f)
}

// serverVersion writes server_version_num 150018 as 15.18.
func serverVersion(n int) string {
	if n >= 100000 {
		return fmt.Sprintf("%d.%d", n/10000, n%10000)
	}
	return fmt.Sprintf("%d.%d.%d", n/10000, n/100%100, n%100)
}

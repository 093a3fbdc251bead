package planner

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pgwiden/pgwiden/internal/format"
)

// WriteText prints the plan for an operator: the closure, blockers and
// warnings, estimates, then every phase's SQL with the lock it takes.
func WriteText(w io.Writer, p *Plan) error {
	pw := &printer{w: w}
	pw.printf("pgwiden plan: widen %s to bigint\n", p.Target.Describe())
	if p.NothingToDo {
		pw.printf("\nNothing to do: %s.\n", p.Reason)
		return pw.err
	}
	if p.Reason != "" {
		pw.printf("\n%s.\n", p.Reason)
	}
	pw.closure(p)
	pw.citus(p)
	pw.findings("Blockers (the migration cannot start until they are fixed)", p.Blockers)
	pw.findings("Warnings", p.Warnings)
	pw.estimates(p.Estimates)
	pw.carried(p.Carried)
	pw.steps(p.Steps)
	return pw.err
}

// printer remembers the first write error so the sections read as a list.
type printer struct {
	w   io.Writer
	err error
}

func (pw *printer) printf(format string, args ...any) {
	if pw.err == nil {
		_, pw.err = fmt.Fprintf(pw.w, format, args...)
	}
}

func (pw *printer) closure(p *Plan) {
	n := 0
	for _, t := range p.Tables {
		n += len(t.Columns)
	}
	if n > 0 {
		pw.printf("\nColumns to widen (%d in %d tables, parents first):\n", n, len(p.Tables))
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, t := range p.Tables {
		for _, c := range t.Columns {
			null := "NULL"
			if c.NotNull {
				null = "NOT NULL"
			}
			fmt.Fprintf(tw, "  %s.%s\t%s\t%s\t~%s rows\t%s\t%s\n", t.Table, c.Name, c.Type, null, format.Count(t.Rows), format.Bytes(t.Bytes), c.Why)
		}
		if t.Partitioned {
			fmt.Fprintf(tw, "    (partitioned: %d leaf partitions)\t\t\t\t\t\n", len(t.Leaves))
		}

	}
	_ = tw.Flush() // it writes to a strings.Builder, which never fails
	pw.printf("%s", b.String())
	pw.walks(p.Tables)
	if len(p.Sequences) > 0 {
		pw.printf("\nSequences to widen:\n")
	}
	for _, s := range p.Sequences {
		if s.ReplacedBy != nil {
			pw.printf("  %s  %s, replaced by %s (bigint) at the swap  (feeds %s.%s)\n", s.Sequence, s.From, s.ReplacedBy, s.Feeds.Table, s.Feeds.Column)
			continue
		}
		pw.printf("  %s  %s -> bigint  (feeds %s.%s)\n", s.Sequence, s.From, s.Feeds.Table, s.Feeds.Column)
	}
}

// walks says how the backfill and the verifications go through each
// table: the walk by ctid is worth the operator's notice.
func (pw *printer) walks(tables []TableChange) {
	header := false
	for _, t := range tables {
		for _, w := range t.Walks {
			if !header {
				pw.printf("\nHow the backfill and the verification walk each table:\n")
				header = true
			}
			pw.printf("  %s: %s\n", w.Table, w.Why)
		}
	}
}

func (pw *printer) findings(title string, fs []Finding) {
	if len(fs) == 0 {
		pw.printf("\n%s: none\n", title)
		return
	}
	pw.printf("\n%s:\n", title)
	for _, f := range fs {
		pw.printf("  - [%s] %s: %s\n", f.Code, f.Object, f.Detail)
		if f.Fix != "" {
			pw.printf("    fix: %s\n", f.Fix)
		}
	}
}

func (pw *printer) estimates(e Estimates) {
	pw.printf("\nEstimates (catalog statistics): ~%s rows, tables %s, affected indexes %s, extra disk up to %s until cleanup and vacuum\n",
		format.Count(e.Rows), format.Bytes(e.TableBytes), format.Bytes(e.IndexBytes), format.Bytes(e.ExtraBytes))
}

func (pw *printer) steps(steps []Step) {
	var phase Phase
	n := 0
	for _, s := range steps {
		if s.Phase != phase {
			phase, n = s.Phase, 0
			pw.printf("\n== %s ==\n", phaseTitle(phase))
		}
		n++
		lock := string(s.Lock)
		if !s.InTx {
			lock += ", outside a transaction"
		}
		pw.printf("\n%d. %s  [lock: %s]\n", n, s.ID, lock)
		if s.Note != "" {
			pw.printf("   -- %s\n", s.Note)
		}
		if s.Batch != nil {
			pw.printf("   -- repeated per %s, bounds from: %s\n", s.Batch.Unit(), s.Batch.NextBound)
		}
		pw.printf("%s;\n", indent(s.SQL, "   "))
	}
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(s, "\n", "\n"+pre)
}

func phaseTitle(p Phase) string {
	switch p {
	case Rollback:
		return "ROLLBACK (before the swap; after it, the swap back below runs first)"
	case Unswap:
		return "ROLLBACK AFTER CUTOVER: SWAP BACK (then the rollback steps above)"
	case Unguard:
		return "ONLY IF THE SWAP BACK IS REFUSED (a value beyond the old type): LIFT ITS GUARD"
	}
	return strings.ToUpper(string(p))
}

package integration

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

const columnMetaDoc = "../docs/column-metadata.md"

// TestDocsColumnMetadata runs the commands docs/column-metadata.md shows,
// on its scenario (testdata/plans/column-metadata.sql with rows), and
// checks that each sample in the page, between "<!-- output: name -->"
// and "<!-- end -->", is what the commands print today; with
// -update-docs it writes them instead. So the page never shows output
// pgwiden no longer produces.
func TestDocsColumnMetadata(t *testing.T) {
	ctx := pgtest.Context(t)
	db := newDBWith(t, "testdata/plans/column-metadata.sql")
	db.Exec(t, `INSERT INTO parent SELECT g, 'parent ' || g FROM generate_series(1, 1000) g;
INSERT INTO child SELECT g, 1 + g % 1000, g % 5 FROM generate_series(1, 10000) g;
ANALYZE`)
	target := []string{"--table", "parent", "--column", "id"}
	samples := map[string]string{}
	plan := docsRun(t, ctx, db, false, "plan", target...)
	samples["plan-carried"] = between(plan, "Carried to the new columns", "\n== PREPARE ==")
	docsRun(t, ctx, db, false, "prepare", target...)
	docsRun(t, ctx, db, false, "backfill", target...)
	dry := docsRun(t, ctx, db, false, "cutover", append([]string{"--dry-run"}, target...)...)
	// Steps are found by ID, not by their number, which changes with
	// every step added before them.
	settings, swap := stepHeader(dry, "cutover/column-settings/public.parent"), stepHeader(dry, "cutover/swap")
	samples["cutover-before-swap"] = between(dry, settings, "\n"+swap)
	samples["cutover-swap"] = between(between(dry, swap, "CREATE OR REPLACE FUNCTION"), "COMMENT ON COLUMN", "\nCREATE OR REPLACE")
	docsRun(t, ctx, db, false, "cutover", target...)
	db.Exec(t, `CREATE INDEX child_kind_old_idx ON child (kind, parent_id_pgwiden_old);
CREATE VIEW legacy_children AS SELECT id, parent_id_pgwiden_old FROM child`)
	samples["cleanup-refused"] = docsRun(t, ctx, db, true, "cleanup", append([]string{"--yes"}, target...)...)

	doc, err := os.ReadFile(columnMetaDoc)
	if err != nil {
		t.Fatal(err)
	}
	got := fillSamples(t, string(doc), samples)
	if *updateDocs {
		if err := os.WriteFile(columnMetaDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(doc) {
		t.Errorf("docs/column-metadata.md shows output pgwiden no longer prints (go test ./integration -run TestDocsColumnMetadata -update-docs):\n%s", firstDiff(string(doc), got))
	}
}

// docsRun runs the CLI and returns what it printed; wantFail says whether
// it must fail. Logs go to stderr as JSON and are left out.
func docsRun(t *testing.T, ctx context.Context, db *pgtest.DB, wantFail bool, cmd string, args ...string) string {
	t.Helper()
	c := exec.CommandContext(ctx, pgtest.Binary(t), append([]string{"--dsn", db.DSN, "--log-format", "json", "--log-level", "error", cmd}, args...)...)
	var stdout, stderr strings.Builder
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if (err != nil) != wantFail {
		t.Fatalf("pgwiden %s: %v (want failure: %v)\n%s%s", cmd, err, wantFail, stdout.String(), stderr.String())
	}
	if wantFail {
		return stderr.String()
	}
	return stdout.String()
}

// stepHeader is the "-- N. id" line --dry-run prints for step id, or id
// itself when there is none (between then finds nothing).
func stepHeader(dry, id string) string {
	if m := regexp.MustCompile(`(?m)^-- \d+\. ` + regexp.QuoteMeta(id) + `$`).FindString(dry); m != "" {
		return m
	}
	return id
}

// between returns s from the first from up to the next to (excluded).
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		s = s[:j]
	}
	return strings.TrimRight(s, "\n") + "\n"
}

var sampleRE = regexp.MustCompile("(?s)(<!-- output: ([a-z-]+) -->\n```[a-z]*\n)(.*?)(```\n<!-- end -->)")

// fillSamples replaces the body of each sample block of doc.
func fillSamples(t *testing.T, doc string, samples map[string]string) string {
	t.Helper()
	seen := map[string]bool{}
	out := sampleRE.ReplaceAllStringFunc(doc, func(block string) string {
		m := sampleRE.FindStringSubmatch(block)
		body, ok := samples[m[2]]
		if !ok || body == "" {
			t.Errorf("docs/column-metadata.md has a sample %q the run did not produce", m[2])
			return block
		}
		seen[m[2]] = true
		return m[1] + body + m[4]
	})
	for name := range samples {
		if !seen[name] {
			t.Errorf("docs/column-metadata.md lacks the sample %q", name)
		}
	}
	return out
}

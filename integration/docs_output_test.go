package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// docsSchema is the story docs/runway.md and docs/monitoring.md tell:
// orders.id, 47 ids from the int4 limit and growing by a million a day,
// with 100,000 items,
// two healthier tables, and a table whose CHECK refuses negative ids.
const docsSchema = runwaySchema + `
INSERT INTO items (order_id) SELECT id FROM orders, generate_series(1, 400);
CREATE TABLE customers (id serial PRIMARY KEY);
CREATE TABLE invoices (id serial PRIMARY KEY, customer_id int REFERENCES customers (id));
INSERT INTO customers SELECT g FROM generate_series(1, 20000) g;
INSERT INTO invoices (customer_id) SELECT 1 + g % 20000 FROM generate_series(1, 100000) g;
SELECT setval('customers_id_seq', 2147483647 - 25000000), setval('invoices_id_seq', 2147483647 - 40000000);
CREATE TABLE legacy_orders (id serial PRIMARY KEY, legacy boolean NOT NULL, CHECK (id > 0 OR legacy));
INSERT INTO legacy_orders (legacy) VALUES (false);
ANALYZE;
`

// docsOutput runs pgwiden and renders the command and its output as the
// docs show them: without --dsn, the database named shop.
func docsOutput(ctx context.Context, t *testing.T, db *pgtest.DB, want int, args ...string) string {
	t.Helper()
	stdout, stderr, code := runPgwiden(ctx, t, append([]string{"--dsn", db.DSN, "--log-level", "warn"}, args...)...)
	if code != want {
		t.Fatalf("pgwiden %v: exit %d, want %d\n%s\n%s", args, code, want, stdout, stderr)
	}
	out := "$ pgwiden " + strings.Join(args, " ") + "\n" + stdout + stderr
	if code != 0 {
		out += fmt.Sprintf("$ echo $?\n%d\n", code)
	}
	return strings.ReplaceAll(out, db.Name, "shop")
}

// TestDocsOutput runs the scenario of the runway and monitoring docs and,
// with -update-docs, writes each command's real output into the docs
// between <!-- output: NAME --> and <!-- end -->. Without the flag it
// checks that every section the run produces has its place in the docs.
func TestDocsOutput(t *testing.T) {
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, docsSchema)
	out := map[string]string{}

	runPgwiden(ctx, t, "--dsn", db.DSN, "audit", "--record")
	db.Exec(t, `INSERT INTO pgwiden.audit_history (taken_at, object, kind, value, "limit")
		SELECT now() - interval '1 day', 'public.' || o, 'column', v - 1000000, 2147483647
		FROM (VALUES ('orders.id', 2147483600), ('customers.id', 2147483647 - 25000000), ('invoices.id', 2147483647 - 40000000),
		             ('invoices.customer_id', 2147483647 - 25000000)) x(o, v)`)
	out["audit-start-by"] = docsOutput(ctx, t, db, 3, "audit", "--threshold", "0.9")
	// The incident: the last 47 ids are gone.
	db.Exec(t, "INSERT INTO orders (note) SELECT 'last' FROM generate_series(1, 47)")
	out["runway-dry-run"] = docsOutput(ctx, t, db, 0, "runway", "--table", "orders", "--column", "id", "--dry-run")
	out["runway-refused"] = docsOutput(ctx, t, db, 4, "runway", "--table", "legacy_orders", "--column", "id", "--i-understand-ids-go-negative")
	out["runway-take"] = docsOutput(ctx, t, db, 0, "runway", "--table", "orders", "--column", "id", "--i-understand-ids-go-negative")
	db.Exec(t, "INSERT INTO orders (note) SELECT 'new' FROM generate_series(1, 3)")
	out["runway-audit"] = docsOutput(ctx, t, db, 3, "audit", "--threshold", "0.9")
	out["runway-undo"] = docsOutput(ctx, t, db, 1, "runway", "--table", "orders", "--column", "id", "--undo")
	docsOutput(ctx, t, db, 0, "prepare", "--table", "orders", "--column", "id")
	out["runway-status"] = docsOutput(ctx, t, db, 0, "status")
	out["audit-prometheus"] = trimMetrics(docsOutput(ctx, t, db, 3, "audit", "--format", "prometheus"))

	for _, doc := range []string{"runway.md", "monitoring.md"} {
		path := filepath.Join("..", "docs", doc)
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		updated := replaceOutputs(t, string(text), out)
		if *updateDocs {
			if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range out {
		if out[name] != "" {
			t.Errorf("section %s has no place in docs/runway.md or docs/monitoring.md", name)
		}
	}
}

var outputSection = regexp.MustCompile("(?s)<!-- output: ([a-z-]+) -->\n.*?<!-- end -->")

// replaceOutputs fills each output section of text it has an output for,
// and empties that entry of out.
func replaceOutputs(t *testing.T, text string, out map[string]string) string {
	return outputSection.ReplaceAllStringFunc(text, func(section string) string {
		name := outputSection.FindStringSubmatch(section)[1]
		body, ok := out[name]
		if !ok {
			t.Errorf("docs section %s: no such output", name)
			return section
		}
		out[name] = ""
		return "<!-- output: " + name + " -->\n```\n" + body + "```\n<!-- end -->"
	})
}

// trimMetrics keeps the metrics of the run as a whole and of orders.id,
// with the HELP and TYPE lines of the metrics kept.
func trimMetrics(s string) string {
	lines := strings.Split(s, "\n")
	kept := map[string]bool{}
	for _, l := range lines[1:] {
		if l != "" && !strings.HasPrefix(l, "#") && (strings.Contains(l, `object="public.orders.id"`) || !strings.Contains(l, "object=")) {
			kept[l] = true
			name, _, _ := strings.Cut(l, "{")
			kept["# HELP "+name] = true
			kept["# TYPE "+name] = true
		}
	}
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if kept[l] || (len(f) > 2 && kept[f[0]+" "+f[1]+" "+f[2]]) || strings.HasPrefix(l, "$ echo") || (len(f) == 1 && !strings.Contains(l, "{")) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

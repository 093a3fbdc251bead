package rehearsal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
	pgdsn "github.com/pgwiden/pgwiden/internal/dsn"
	"github.com/pgwiden/pgwiden/planner"
)

// SchemaCheck is the comparison of the closure's schema before prepare
// and after the rollback.
type SchemaCheck struct {
	// Method is "pg_dump" (pg_dump --schema-only of the closure's tables,
	// views and sequences) or "catalog" (pgwiden's catalog snapshot of the
	// same objects as JSON, sizes and statistics left out).
	Method string `json:"method"`
	// Tool is the pg_dump that was run; Fallback says why pg_dump was not
	// used.
	Tool     string `json:"tool,omitempty"`
	Fallback string `json:"fallback,omitempty"`
	// Objects are the objects compared.
	Objects []string `json:"objects"`
	// Checked is false when there was nothing to compare after (--keep,
	// or the rollback failed).
	Checked   bool   `json:"checked"`
	Identical bool   `json:"identical"`
	Diff      string `json:"diff,omitempty"`
}

// schemaDumper takes the "before" and "after" pictures the same way.
type schemaDumper struct {
	pool    *pgxpool.Pool
	dsn     string
	tool    string // "" for the catalog snapshot
	objects []catalog.QName
}

// newSchemaDumper picks pg_dump when one is found and works on this
// server (an older pg_dump refuses a newer server), the catalog snapshot
// otherwise, and takes the "before" picture; check.Fallback says why
// pg_dump was not used.
func newSchemaDumper(ctx context.Context, pool *pgxpool.Pool, dsn string, objects []catalog.QName) (*schemaDumper, string, *SchemaCheck, error) {
	d := &schemaDumper{pool: pool, dsn: dsn, objects: objects}
	check := &SchemaCheck{Method: "catalog"}
	for _, o := range objects {
		check.Objects = append(check.Objects, o.String())
	}
	tool, err := findPgDump()
	if err == nil {
		d.tool = tool
		var before string
		if before, err = d.dump(ctx); err == nil {
			check.Method, check.Tool = "pg_dump", tool
			return d, before, check, nil
		}
		d.tool = ""
	}
	check.Fallback = err.Error()
	before, err := d.dump(ctx)
	if err != nil {
		return nil, "", nil, fmt.Errorf("schema before prepare: pg_dump cannot be used (%s) and the catalog snapshot failed: %w", check.Fallback, err)
	}
	return d, before, check, nil
}

// findPgDump looks for pg_dump in PATH, then in `pg_config --bindir`.
func findPgDump() (string, error) {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p, nil
	}
	out, err := exec.Command("pg_config", "--bindir").Output()
	if err != nil {
		return "", errors.New("pg_dump is not in PATH and pg_config was not found to locate it")
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "pg_dump")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("pg_dump is not in PATH nor in pg_config --bindir (%s)", filepath.Dir(p))
	}
	return p, nil
}

// dump pictures the objects with pg_dump, or as a catalog snapshot.
func (d *schemaDumper) dump(ctx context.Context) (string, error) {
	if d.tool != "" {
		return pgDump(ctx, d.tool, d.dsn, d.objects)
	}
	return catalogPicture(ctx, d.pool, d.objects)
}

// pgDump runs pg_dump --schema-only for the objects. The password goes in
// PGPASSWORD rather than on the command line, where ps would show it.
func pgDump(ctx context.Context, tool, dsn string, objects []catalog.QName) (string, error) {
	args := []string{"--schema-only", "--exclude-schema=pgwiden"}
	for _, o := range objects {
		// Inside double quotes a pg_dump pattern matches literally.
		args = append(args, "--table="+o.Quoted())
	}
	env := os.Environ()
	if dsn != "" {
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil {
			return "", fmt.Errorf("pg_dump: parse the DSN: %w", err)
		}
		if cfg.Password != "" {
			env = append(env, "PGPASSWORD="+cfg.Password)
		}
		args = append(args, "--dbname="+pgdsn.WithoutPassword(dsn))
	}
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s failed: %w: %s", tool, err, strings.TrimSpace(stderr.String()))
	}
	// pg_dump 17.6+/15.14+ writes a random \restrict key on every run.
	var keep []string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if !strings.HasPrefix(line, `\restrict `) && !strings.HasPrefix(line, `\unrestrict `) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n"), nil
}

// catalogPicture is the catalog snapshot of the objects as indented JSON,
// without what changes by itself (sizes, row estimates, sequence values).
func catalogPicture(ctx context.Context, pool *pgxpool.Pool, objects []catalog.QName) (string, error) {
	var schemas []string
	for _, o := range objects {
		if !slices.Contains(schemas, o.Schema) {
			schemas = append(schemas, o.Schema)
		}
	}
	snap, err := catalog.Load(ctx, pool, schemas)
	if err != nil {
		return "", err
	}
	var pic struct {
		Tables    []catalog.Table    `json:"tables"`
		Sequences []catalog.Sequence `json:"sequences"`
		Views     []catalog.View     `json:"views"`
	}
	for _, t := range snap.Tables {
		if slices.Contains(objects, t.Name) {
			t.RowEstimate, t.TableBytes, t.TotalBytes, t.Pages = 0, 0, 0, 0
			for i := range t.Indexes {
				t.Indexes[i].Bytes = 0
			}
			pic.Tables = append(pic.Tables, t)
		}
	}
	for _, s := range snap.Sequences {
		if slices.Contains(objects, s.Name) {
			s.LastValue = nil
			pic.Sequences = append(pic.Sequences, s)
		}
	}
	for _, v := range snap.Views {
		if slices.Contains(objects, v.Name) {
			pic.Views = append(pic.Views, v)
		}
	}
	b, err := json.MarshalIndent(pic, "", "  ")
	return string(b), err
}

// schemaObjects lists what the schema check compares: the closure's
// tables and leaf partitions, the sequences that feed them and the views
// that read their columns (the swap drops and re-creates those).
func schemaObjects(p *planner.Plan, snap *catalog.Snapshot) []catalog.QName {
	var out []catalog.QName
	add := func(q catalog.QName) {
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	tables := map[catalog.QName]bool{}
	for _, tc := range p.Tables {
		add(tc.Table)
		tables[tc.Table] = true
		for _, l := range tc.Leaves {
			add(l)
			tables[l] = true
		}
	}
	for _, s := range p.Sequences {
		add(s.Sequence)
	}
	for _, v := range snap.Views {
		for _, dep := range v.DependsOn {
			if tables[dep.Table] && v.Kind != "rule" {
				add(v.Name)
			}
		}
	}
	return out
}

// firstDiff shows where two texts part, with a few lines of context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	from := max(0, i-3)
	var sb strings.Builder
	fmt.Fprintf(&sb, "first difference at line %d\n", i+1)
	for _, side := range []struct {
		name  string
		lines []string
	}{{"before", al}, {"after", bl}} {
		fmt.Fprintf(&sb, "--- %s\n", side.name)
		for j := from; j < min(len(side.lines), i+4); j++ {
			fmt.Fprintf(&sb, "%s\n", side.lines[j])
		}
	}
	return sb.String()
}

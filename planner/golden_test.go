package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/pgwiden/pgwiden/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/*.txtar")

// TestGolden plans every scenario in testdata and compares the text and
// JSON plans byte for byte: this SQL is shown to operators and run on
// their databases, so whitespace changes are changes too.
//
// Each file holds catalog.json (a real catalog, dumped by the integration
// test TestPlanFixtures), target ("schema.table.column" as JSON), and
// the golden plan.txt and plan.json, or error for a target that is refused.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in testdata (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { golden(t, file) })
	}
}

func golden(t *testing.T, file string) {
	ar, snap, target := fixture(t, file)

	got := map[string][]byte{}
	p, err := Build(snap, target)
	var te *TargetError
	switch {
	case errors.As(err, &te):
		got["error"] = []byte(err.Error() + "\n")
	case err != nil:
		t.Fatalf("Build: %v", err)
	default:
		var txt bytes.Buffer
		if err := WriteText(&txt, p); err != nil {
			t.Fatal(err)
		}
		got["plan.txt"] = txt.Bytes()
		js, _ := json.MarshalIndent(p, "", "  ")
		got["plan.json"] = append(js, '\n')
	}
	if *update {
		rewrite(t, file, ar, got)
		return
	}
	for name, want := range got {
		if have := section(t, ar, name); !bytes.Equal(have, want) {
			t.Errorf("%s differs from the golden file (go test ./planner -update to accept):\n%s", name, diffLine(have, want))
		}
	}
}

func section(t *testing.T, ar *txtar.Archive, name string) []byte {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	if *update {
		return nil
	}
	t.Fatalf("section %q missing", name)
	return nil
}

func mustJSON(t *testing.T, data []byte, v any) {
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("parse: %v", err)
	}
}

// rewrite keeps the input sections and replaces the golden ones.
func rewrite(t *testing.T, file string, ar *txtar.Archive, got map[string][]byte) {
	var files []txtar.File
	for _, f := range ar.Files {
		if f.Name == "catalog.json" || f.Name == "target" {
			files = append(files, f)
		}
	}
	for _, name := range []string{"error", "plan.txt", "plan.json"} {
		if data, ok := got[name]; ok {
			files = append(files, txtar.File{Name: name, Data: data})
		}
	}
	ar.Files = files
	if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// diffLine shows the first line that differs.
func diffLine(have, want []byte) string {
	h, w := bytes.Split(have, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(h) || i < len(w); i++ {
		var a, b []byte
		if i < len(h) {
			a = h[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if !bytes.Equal(a, b) {
			return "line " + itoa(int64(i+1)) + ":\n  golden: " + string(a) + "\n  now:    " + string(b)
		}
	}
	return ""
}

// fixture reads a golden file and its catalog and target sections.
func fixture(t *testing.T, file string) (*txtar.Archive, *catalog.Snapshot, Target) {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var snap catalog.Snapshot
	var target Target
	mustJSON(t, section(t, ar, "catalog.json"), &snap)
	mustJSON(t, section(t, ar, "target"), &target)
	return ar, &snap, target
}

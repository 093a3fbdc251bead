package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docFiles are the Markdown files `make docs-samples` rewrites.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, files...)
}

// TestBlocksMatchScenes keeps the docs and scenes.go in step without a
// server: every marked block is made by a scene and starts with that
// scene's command line, every scene with a sample has a block, and the
// import graph is the one the code has now. The outputs themselves carry
// times, durations and pids, so they are rewritten by `make docs-samples`
// rather than compared.
func TestBlocksMatchScenes(t *testing.T) {
	byName := map[string]scene{}
	for _, s := range scenes() {
		if s.Sample == "" {
			continue
		}
		if _, dup := byName[s.Sample]; dup {
			t.Errorf("scenes.go: two scenes make sample %s", s.Sample)
		}
		byName[s.Sample] = s
	}
	graph, err := importGraph("../..")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, path := range docFiles(t) {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := findBlocks(string(text))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, b := range blocks {
			used[b.Name] = true
			where := fmt.Sprintf("%s:%d", path, b.Line)
			if b.Name == graphBlock {
				if got := strings.Join(b.Lines, "\n") + "\n"; got != graph {
					t.Errorf("%s: the import graph is stale; run make docs-graph (or make docs-samples). Now:\n%s", where, graph)
				}
				continue
			}
			s, ok := byName[b.Name]
			if !ok {
				t.Errorf("%s: no scene in scenes.go makes sample %s", where, b.Name)
				continue
			}
			checkBlock(t, where, s, b)
		}
	}
	for name := range byName {
		if !used[name] {
			t.Errorf("scenes.go: sample %s is shown nowhere in README.md or docs/*.md", name)
		}
	}
}

// checkBlock checks that a block has the shape render gives it, for its
// scene's command line.
func checkBlock(t *testing.T, where string, s scene, b block) {
	t.Helper()
	if len(b.Lines) < 2 {
		t.Errorf("%s: sample %s is empty: run make docs-samples", where, b.Name)
		return
	}
	if s.Stdout {
		if b.Lines[0] != "````markdown" || b.Lines[len(b.Lines)-1] != "````" {
			t.Errorf("%s: sample %s is not a ````markdown block: run make docs-samples", where, b.Name)
		}
		return
	}
	if b.Lines[0] != "```text" || b.Lines[len(b.Lines)-1] != "```" {
		t.Errorf("%s: sample %s is not a ```text block: run make docs-samples", where, b.Name)
	}
	if want := commandLine(s); b.Lines[1] != want {
		t.Errorf("%s: sample %s shows %q, its scene runs %q: run make docs-samples", where, b.Name, b.Lines[1], want)
	}
}

// TestReplaceBlocks: a block's old content is replaced by its rendering,
// the text around it is kept byte for byte, and a block no scene makes is
// an error naming its line.
func TestReplaceBlocks(t *testing.T) {
	s := scene{Sample: "x", Args: []string{"plan", "--table", "Weird Table"}, Keep: 2}
	text := "intro\n<!-- sample: x -->\n```text\nold\n```\n<!-- /sample -->\nafter\n"
	got, err := replaceBlocks(text, map[string]string{"x": render(s, "one  \ntwo\nthree\n")})
	if err != nil {
		t.Fatal(err)
	}
	want := "intro\n<!-- sample: x -->\n```text\n$ pgwiden plan --table 'Weird Table'\none\ntwo\n...\n```\n<!-- /sample -->\nafter\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := replaceBlocks("a\n<!-- sample: y -->\n<!-- /sample -->\n", nil); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("unknown sample: got %v, want an error naming line 2", err)
	}
	if _, err := findBlocks("<!-- sample: x -->\nno end\n"); err == nil {
		t.Error("unterminated block: got no error")
	}
}

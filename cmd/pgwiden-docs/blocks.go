package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// A marked block in Markdown:
//
//	<!-- sample: NAME -->
//	```text
//	$ pgwiden ARGS
//	output
//	```
//	<!-- /sample -->
const endMarker = "<!-- /sample -->"

var startMarker = regexp.MustCompile(`^<!-- sample: ([a-z0-9-]+) -->$`)

// block is one marked block found in a file.
type block struct {
	Name  string
	Line  int      // 1-based line of the start marker
	Lines []string // between the markers
}

// findBlocks returns the marked blocks of a Markdown text in order; an
// unterminated block is an error naming its line.
func findBlocks(text string) ([]block, error) {
	var blocks []block
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		m := startMarker.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		b := block{Name: m[1], Line: i + 1}
		for i++; i < len(lines) && lines[i] != endMarker; i++ {
			b.Lines = append(b.Lines, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("line %d: sample %s has no %s", b.Line, b.Name, endMarker)
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// replaceBlocks rewrites every marked block of text with its rendering
// from outputs; a block whose name has no output is an error.
func replaceBlocks(text string, outputs map[string]string) (string, error) {
	lines := strings.Split(text, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		m := startMarker.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		body, ok := outputs[m[1]]
		if !ok {
			return "", fmt.Errorf("line %d: no scene makes sample %s (see cmd/pgwiden-docs/scenes.go)", i+1, m[1])
		}
		for i++; i < len(lines) && lines[i] != endMarker; i++ {
		}
		if i == len(lines) {
			return "", fmt.Errorf("line %d: sample %s has no %s", i+1, m[1], endMarker)
		}
		out = append(out, strings.TrimSuffix(body, "\n"), endMarker)
	}
	return strings.Join(out, "\n"), nil
}

// render is a scene's block body: its command line and its output in a
// fence, shortened to Keep lines.
func render(s scene, output string) string {
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ") // tabwriter pads the last column
	}
	if s.Keep > 0 && len(lines) > s.Keep {
		lines = append(lines[:s.Keep], "...")
	}
	if s.Stdout {
		return "````markdown\n" + strings.Join(lines, "\n") + "\n````\n"
	}
	return "```text\n" + commandLine(s) + "\n" + strings.Join(lines, "\n") + "\n```\n"
}

// commandLine is the scene's command as a reader would type it; the --dsn
// and --log-format the run adds are left out, as in the demo.
func commandLine(s scene) string {
	words := []string{"$", "pgwiden"}
	for _, a := range s.Args {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes an argument for a POSIX shell when it needs it.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// rewriteFiles replaces the marked blocks of every file with outputs and
// writes the files that changed.
func rewriteFiles(paths []string, outputs map[string]string) error {
	for _, p := range paths {
		old, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		text, err := replaceBlocks(string(old), outputs)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if text != string(old) {
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

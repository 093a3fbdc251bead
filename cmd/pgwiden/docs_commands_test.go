package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestDocumentedCommandsParse runs every pgwiden command line shown in
// README.md and docs/*.md through the CLI with --help appended: an unknown
// command or flag, or a value of the wrong type, fails it, and nothing
// connects anywhere. The commands whose output the docs show are also run
// for real by `make docs-samples` (cmd/pgwiden-docs); this test covers the
// rest (the runbook's command lists, cron lines, scripts).
func TestDocumentedCommandsParse(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md")
	n := 0
	for _, f := range files {
		for _, c := range documentedCommands(t, f) {
			n++
			app := newApp(io.Discard, io.Discard)
			noActions(app.Commands)
			if err := app.Run(append(append([]string{"pgwiden"}, c.args...), "--help")); err != nil {
				t.Errorf("%s:%d: pgwiden %s: %v", f, c.line, strings.Join(c.args, " "), err)
			}
		}
	}
	t.Logf("%d documented commands parsed", n)
	if n < 20 {
		t.Errorf("found only %d documented commands: is the extraction broken?", n)
	}
}

// noActions replaces every command's action with an error: --help must
// stop the parse before any action runs, so the test never connects.
func noActions(cmds []*cli.Command) {
	for _, c := range cmds {
		c.Action = func(*cli.Context) error { return errors.New("the command ran: --help was taken as an argument") }
		noActions(c.Subcommands)
	}
}

// docCommand is a pgwiden command line found in a code block.
type docCommand struct {
	line int
	args []string
}

var (
	fence = regexp.MustCompile("^(`{3,})(\\S*)")
	// In shell blocks pgwiden may follow an assignment, `$(`, a pipe...
	// In shell blocks pgwiden is called at the start of a command: at the
	// start of the line after variable assignments, or after $( | ; &&.
	shellCall = regexp.MustCompile(`(?:^\s*(?:\w+=\S+\s+)*|\$\(|[|;&]\s*)(?:bin/)?pgwiden\s+(.*)$`)
	// In output blocks only the prompt line is a command.
	promptCall = regexp.MustCompile(`^\$ (?:bin/)?pgwiden\s+(.*)$`)
)

// documentedCommands returns the pgwiden command lines of a Markdown
// file's code blocks: `$ pgwiden ...` in text blocks, any pgwiden call in
// sh, bash and cron blocks, with backslash continuations joined.
func documentedCommands(t *testing.T, path string) []docCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []docCommand
	var open, kind, pending string
	lineNo, start := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lineNo++
		l := sc.Text()
		if m := fence.FindStringSubmatch(l); m != nil && (open == "" || m[1] == open) {
			if open == "" {
				open, kind = m[1], m[2]
			} else {
				open = ""
			}
			continue
		}
		if open == "" {
			continue
		}
		if pending == "" {
			start = lineNo
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			pending += s + " "
			continue
		}
		l, pending = pending+l, ""
		re := promptCall
		switch kind {
		case "sh", "bash", "cron":
			re = shellCall
		case "text", "":
		default:
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if m := re.FindStringSubmatch(l); m != nil {
			cmds = append(cmds, docCommand{line: start, args: shellWords(m[1])})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// shellWords splits a command line as a POSIX shell would, for what the
// docs contain: quotes, redirections, pipes and comments end the command.
// A word with a shell expansion ($VAR, $(...)) becomes "1", which every
// flag type but durations accepts.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord, expand := false, false
	var quote rune
	flush := func() {
		if inWord {
			if expand {
				words = append(words, "1")
			} else {
				words = append(words, w.String())
			}
		}
		w.Reset()
		inWord, expand = false, false
	}
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				expand = expand || (quote == '"' && r == '$')
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			flush()
		case strings.ContainsRune("<>|;&)", r) || (r == '#' && !inWord):
			if r == '>' && w.String() == "2" { // 2>&1: the "2" is not a word
				inWord = false
			}
			flush()
			return words
		default:
			expand = expand || r == '$'
			w.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return words
}

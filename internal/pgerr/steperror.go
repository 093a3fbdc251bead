package pgerr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// StepError is a plan step that failed. SQL is the statement exactly as it
// was sent (comment prefix included), so that the server's error position
// points into it.
type StepError struct {
	StepID string
	SQL    string
	Err    error
}

func (e *StepError) Error() string { return "step " + e.StepID + ": " + e.Err.Error() }

// Unwrap returns the step's error, usually a *pgconn.PgError.
func (e *StepError) Unwrap() error { return e.Err }

// Render returns err on one line for the CLI. When err holds a server
// error, its DETAIL and HINT follow, e.g.
//
//	step cutover/swap/public.tags: ERROR: cannot drop column id (SQLSTATE 2BP01) DETAIL: view v depends on it HINT: ...
//
// The message itself is err's own, whatever context the callers added.
func Render(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		for _, f := range [...]struct{ name, value string }{{"DETAIL", pgErr.Detail}, {"HINT", pgErr.Hint}} {
			if f.value != "" {
				s += " " + f.name + ": " + f.value
			}
		}
	}
	return oneLine(s)
}

// Caret returns err over several lines, as psql shows it: the message, the
// statement's line with a caret under the error position (when the server
// gave one and err holds the StepError's SQL), then DETAIL, HINT and
// CONTEXT. The CLI shows it at --log-level debug.
func Caret(err error) string {
	if err == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(err.Error())
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return b.String()
	}
	var se *StepError
	switch {
	case pgErr.Position > 0 && errors.As(err, &se) && se.SQL != "":
		b.WriteString(caretLine(se.SQL, int(pgErr.Position)))
	case pgErr.InternalPosition > 0 && pgErr.InternalQuery != "":
		b.WriteString(caretLine(pgErr.InternalQuery, int(pgErr.InternalPosition)))
	}
	for _, f := range [...]struct{ name, value string }{
		{"DETAIL", pgErr.Detail}, {"HINT", pgErr.Hint}, {"CONTEXT", pgErr.Where},
	} {
		if f.value != "" {
			fmt.Fprintf(&b, "\n%s: %s", f.name, f.value)
		}
	}
	return b.String()
}

// caretLine returns "\nLINE n: <line>\n<pad>^" for pos, the server's
// 1-based character (not byte) position in sql. Tabs before the column are
// kept in the padding so the caret lines up in a terminal.
func caretLine(sql string, pos int) string {
	runes := []rune(sql)
	if pos > len(runes) {
		return ""
	}
	before := string(runes[:pos-1])
	lineNo := strings.Count(before, "\n") + 1
	start := strings.LastIndex(before, "\n") + 1
	line, _, _ := strings.Cut(sql[start:], "\n")
	prefix := fmt.Sprintf("LINE %d: ", lineNo)
	pad := []rune(strings.Repeat(" ", len(prefix)) + before[start:])
	for i, r := range pad {
		if r != '\t' {
			pad[i] = ' '
		}
	}
	return "\n" + prefix + line + "\n" + string(pad) + "^"
}

// oneLine folds line breaks and the indentation after them into one space.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, " ")
}

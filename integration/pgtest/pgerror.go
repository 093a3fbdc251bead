package pgtest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// describeExecErr renders a server error the way psql does, with the
// statement's line, a caret under the position, DETAIL and HINT: a test
// fixture of fifty statements is otherwise hard to debug.
func describeExecErr(sql string, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (SQLSTATE %s)", pgErr.Severity, pgErr.Message, pgErr.Code)
	if pgErr.Position > 0 {
		b.WriteString(caret(sql, int(pgErr.Position)))
	}
	for _, f := range []struct{ name, value string }{
		{"DETAIL", pgErr.Detail}, {"HINT", pgErr.Hint}, {"CONTEXT", pgErr.Where},
	} {
		if f.value != "" {
			fmt.Fprintf(&b, "\n%s: %s", f.name, f.value)
		}
	}
	return &execError{text: b.String(), err: pgErr}
}

// execError is a server error rendered for a test log; it still unwraps to
// the *pgconn.PgError.
type execError struct {
	text string
	err  error
}

func (e *execError) Error() string { return e.text }
func (e *execError) Unwrap() error { return e.err }

// caret returns "\nLINE n: <line>\n<spaces>^" for a 1-based character
// position in sql, as the server reports it.
func caret(sql string, pos int) string {
	runes := []rune(sql)
	if pos > len(runes) {
		return ""
	}
	before := string(runes[:pos-1])
	lineNo := strings.Count(before, "\n") + 1
	start := strings.LastIndex(before, "\n") + 1
	line, _, _ := strings.Cut(sql[start:], "\n")
	prefix := fmt.Sprintf("LINE %d: ", lineNo)
	col := len([]rune(before[start:]))
	return "\n" + prefix + line + "\n" + strings.Repeat(" ", len(prefix)+col) + "^"
}

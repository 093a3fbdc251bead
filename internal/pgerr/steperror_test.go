package pgerr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestRender(t *testing.T) {
	pgErr := &pgconn.PgError{Severity: "ERROR", Code: "2BP01", Message: "cannot drop column id of table tags",
		Detail: "view v depends on column id\nview w depends on column id", Hint: "Use DROP ... CASCADE."}
	err := fmt.Errorf("cleanup public.tags: %w", &StepError{StepID: "cleanup/drop-old/public.tags", SQL: "x", Err: pgErr})
	want := "cleanup public.tags: step cleanup/drop-old/public.tags: ERROR: cannot drop column id of table tags (SQLSTATE 2BP01)" +
		" DETAIL: view v depends on column id view w depends on column id HINT: Use DROP ... CASCADE."
	if got := Render(err); got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	if got := Render(errors.New("plain")); got != "plain" {
		t.Errorf("Render(plain) = %q", got)
	}
	var se *StepError
	if !errors.As(err, &se) || !errors.Is(err, pgErr) {
		t.Error("StepError does not unwrap to the server error")
	}
}

func TestCaret(t *testing.T) {
	sql := "/* pgwiden s */ UPDATE tags\n\tSET idd = 1"
	pgErr := &pgconn.PgError{Severity: "ERROR", Code: "42703", Message: `column "idd" of relation "tags" does not exist`,
		Position: 34, Hint: "Perhaps you meant id."}
	got := Caret(&StepError{StepID: "s", SQL: sql, Err: pgErr})
	want := "step s: ERROR: column \"idd\" of relation \"tags\" does not exist (SQLSTATE 42703)\n" +
		"LINE 2: \tSET idd = 1\n" +
		"        \t    ^\n" +
		"HINT: Perhaps you meant id."
	if got != want {
		t.Errorf("Caret =\n%s\nwant\n%s", got, want)
	}
}

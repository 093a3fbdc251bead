package planner

import "testing"

// TestDollarQuote: a body holding a quoted identifier such as
// "a$pgwiden$b" must not end the function body early.
func TestDollarQuote(t *testing.T) {
	if got := dollarQuote("NEW.x := 1;"); got != "$pgwiden$\nNEW.x := 1;\n$pgwiden$" {
		t.Errorf("plain body: %q", got)
	}
	body := `NEW."a$pgwiden$b" := NEW."a$pgwiden1$";`
	if got, want := dollarQuote(body), "$pgwiden2$\n"+body+"\n$pgwiden2$"; got != want {
		t.Errorf("dollarQuote = %q, want %q", got, want)
	}
}

package planner

import "testing"

func TestStepID(t *testing.T) {
	for _, c := range []struct {
		id                  StepID
		phase, kind, object string
	}{
		{"backfill/copy/public.tags", "backfill", "copy", "public.tags"},
		{"cutover/validate/public.t.fk_pgwiden_new", "cutover", "validate", "public.t.fk_pgwiden_new"},
		{`cutover/index/public."a/b"`, "cutover", "index", `public."a/b"`},
		{"cutover/swap", "cutover", "swap", ""},
		{"odd", "odd", "odd", ""},
	} {
		if p, k, o := c.id.Phase(), c.id.Kind(), c.id.Object(); string(p) != c.phase || k != c.kind || o != c.object {
			t.Errorf("%s: phase %q kind %q object %q", c.id, p, k, o)
		}
	}
	if id := NewStepID(Backfill, "copy", "public.tags"); id != "backfill/copy/public.tags" {
		t.Errorf("NewStepID = %s", id)
	}
	if id := NewStepID(Cutover, "swap", ""); id != "cutover/swap" {
		t.Errorf("NewStepID = %s", id)
	}
}

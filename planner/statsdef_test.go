package planner

import (
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
)

func TestRebuildStatistics(t *testing.T) {
	tab := catalog.QName{Schema: "public", Name: "child"}
	name := catalog.QName{Schema: "public", Name: "s_pgwiden_new"}
	rename := map[string]string{"parent_id": "parent_id_pgwiden_new"}
	for _, tc := range []struct{ def, want string }{
		{"CREATE STATISTICS public.s ON parent_id, kind FROM public.child",
			`CREATE STATISTICS "public"."s_pgwiden_new" ON "parent_id_pgwiden_new", kind FROM "public"."child"`},
		{"CREATE STATISTICS public.s (ndistinct, mcv) ON kind, parent_id FROM public.child",
			`CREATE STATISTICS "public"."s_pgwiden_new" (ndistinct, mcv) ON kind, "parent_id_pgwiden_new" FROM "public"."child"`},
		{`CREATE STATISTICS "on"."from" (dependencies) ON (parent_id + 1), lower("from") FROM "on"."from"`,
			`CREATE STATISTICS "public"."s_pgwiden_new" (dependencies) ON ("parent_id_pgwiden_new" + 1), lower("from") FROM "public"."child"`},
	} {
		got, err := rebuildStatistics(tab, catalog.Statistics{Name: catalog.QName{Schema: "public", Name: "s"}, Def: tc.def}, name, rename)
		if err != nil || got != tc.want {
			t.Errorf("rebuildStatistics(%q)\n got  %q (err %v)\n want %q", tc.def, got, err, tc.want)
		}
	}
	if _, err := rebuildStatistics(tab, catalog.Statistics{Def: "CREATE STATISTICS s"}, name, rename); err == nil {
		t.Error("a definition without ON ... FROM was accepted")
	}
}

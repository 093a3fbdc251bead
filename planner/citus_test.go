package planner

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
)

// TestCitusRefusals: what the online path on Citus was not built for is
// refused at plan with its reason, on the catalog of the real cluster
// changed one way at a time; the unchanged catalog has no Citus blocker.
func TestCitusRefusals(t *testing.T) {
	campaigns := catalog.QName{Schema: "public", Name: "campaigns"}
	for _, tc := range []struct {
		name   string
		change func(snap *catalog.Snapshot)
		want   string // in the citus-table blocker's detail; "" for none
	}{
		{"as dumped", func(*catalog.Snapshot) {}, ""},
		{"append-distributed", func(s *catalog.Snapshot) { s.Table(campaigns).Citus.Method = "a" }, "not append-distributed ones"},
		{"single-shard", func(s *catalog.Snapshot) { s.Table(campaigns).Citus.Kind = catalog.CitusSingleShard }, "single-shard"},
		{"check constraint", func(s *catalog.Snapshot) {
			tab := s.Table(campaigns)
			tab.Constraints = append(tab.Constraints, catalog.Constraint{Name: "id_positive", Type: catalog.ConCheck, Def: "CHECK ((id > 0))", Columns: []string{"id"}, Validated: true})
		}, "CHECK constraint id_positive"},
		{"column trigger", func(s *catalog.Snapshot) {
			tab := s.Table(campaigns)
			tab.Triggers = append(tab.Triggers, catalog.Trigger{Name: "audit_id", Def: "CREATE TRIGGER audit_id AFTER UPDATE OF id ON public.campaigns FOR EACH ROW EXECUTE FUNCTION audit()", Enabled: "O", Columns: []string{"id"}})
		}, "trigger audit_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, target := loadScenario(t, "citus-distributed-table")
			tc.change(snap)
			p, err := Build(snap, target)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range p.Blockers {
				if strings.HasPrefix(f.Code, "citus") {
					got = append(got, f.Code+" "+f.Object+": "+f.Detail)
				}
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("blockers %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], "citus-table public.campaigns.id: ") || !strings.Contains(got[0], tc.want)):
				t.Errorf("blockers %q, want one citus-table on public.campaigns.id saying %q", got, tc.want)
			}
		})
	}
}

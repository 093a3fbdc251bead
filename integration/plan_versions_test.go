package integration

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// versionPlan returns the plan a golden scenario should have on the live
// server when the golden catalog was read from another major version, or
// nil when the versions match and the golden plan.json applies as is.
//
// The golden catalogs come from PostgreSQL 15. Other versions read some
// things differently, by design of the server: pg_get_viewdef prints
// column references unqualified from 16 on, NOT NULL constraints have
// names from 18 on (catalog.Column.NotNullName), and the version itself
// decides where the sync trigger goes (12). The expected plan is then the
// planner's output for the golden catalog with exactly those facts taken
// from the live catalog; everything else still has to match the golden
// catalog for the steps to match. The plans these versions produce are
// pinned byte for byte by their own goldens (planner/testdata/pg*.txtar).
func versionPlan(t *testing.T, ar *txtar.Archive, live *catalog.Snapshot, target planner.Target) *planner.Plan {
	t.Helper()
	var gold catalog.Snapshot
	for _, f := range ar.Files {
		if f.Name == "catalog.json" {
			if err := json.Unmarshal(f.Data, &gold); err != nil {
				t.Fatal(err)
			}
		}
	}
	if gold.ServerVersion/10000 == live.ServerVersion/10000 {
		return nil
	}
	// The version stays the golden's: TestPlanFixtures plans the live
	// catalog as on that version too (where the sync trigger goes, which
	// walk a table gets).
	t.Logf("golden catalog from PostgreSQL %s, server %s: expected plan built from it with the server's view definitions and NOT NULL names",
		catalog.VersionString(gold.ServerVersion), catalog.VersionString(live.ServerVersion))
	for i, v := range gold.Views {
		for _, lv := range live.Views {
			if lv.Name == v.Name && lv.Kind == v.Kind {
				gold.Views[i].Definition = lv.Definition
			}
		}
	}
	for i := range gold.Tables {
		lt := live.Table(gold.Tables[i].Name)
		if lt == nil {
			continue
		}
		for j, c := range gold.Tables[i].Columns {
			if lc := lt.Column(c.Name); lc != nil {
				gold.Tables[i].Columns[j].NotNullName = lc.NotNullName
			}
		}
	}
	p, err := planner.Build(&gold, target)
	if err != nil {
		t.Fatalf("Build from the golden catalog: %v", err)
	}
	b, _ := json.Marshal(p)
	var norm planner.Plan
	_ = json.Unmarshal(b, &norm) // compare in the JSON types, as the golden
	return &norm
}

// scenarioMajor reads the major version a scenario's golden catalog is
// read from: the "-- catalog from: PostgreSQL N" line of its header, 15
// when there is none. -update-fixtures rewrites a catalog.json only on a
// server of that version, so each golden keeps the catalog it is about.
func scenarioMajor(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "--") {
			break
		}
		if v, ok := strings.CutPrefix(line, "-- catalog from: PostgreSQL "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s: %q: want -- catalog from: PostgreSQL <major>", path, line)
			}
			return n
		}
	}
	return 15
}

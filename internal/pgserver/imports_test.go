package pgserver

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportRules guards the package doc's rules: the demo is no test, so
// this package may not need the testing package, and pgwiden's own
// packages import nothing from here, so nothing here imports them but the
// leaf internal/dsn.
func TestImportRules(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "testing" || strings.HasPrefix(imp, "github.com/pgwiden/pgwiden/") && imp != "github.com/pgwiden/pgwiden/internal/dsn" {
			t.Errorf("pgserver imports %s; see doc.go for its import rules", imp)
		}
	}
}

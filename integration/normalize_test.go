package integration

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// TestNormalizeTypesOnlyTheClosure: the schema comparison forgives the
// closure's columns and sequences their new type, and nothing else: a
// column or sequence outside the closure widened by mistake is a
// difference.
func TestNormalizeTypesOnlyTheClosure(t *testing.T) {
	p := &planner.Plan{
		Tables: []planner.TableChange{{Table: catalog.QName{Schema: "public", Name: "Tags"},
			Columns: []planner.ColumnChange{{Name: "Id", Type: "integer"}}}},
		Sequences: []planner.SequenceChange{{Sequence: catalog.QName{Schema: "public", Name: "Tags_Id_seq"}}},
	}
	const before = `CREATE TABLE public."Tags" (
    "Id" integer NOT NULL,
    uses integer
);

CREATE SEQUENCE public."Tags_Id_seq"
    AS integer
    START WITH 1
    CACHE 1;

CREATE SEQUENCE public.other_seq
    AS integer
    START WITH 1
    CACHE 1;

CREATE VIEW public.v AS
 SELECT
    NULL::integer AS "Id",
    NULL::integer AS uses;`
	const widened = `CREATE TABLE public."Tags" (
    uses integer,
    "Id" bigint NOT NULL
);

CREATE SEQUENCE public."Tags_Id_seq"
    START WITH 1
    CACHE 1;

CREATE SEQUENCE public.other_seq
    AS integer
    START WITH 1
    CACHE 1;

CREATE VIEW public.v AS
 SELECT
    NULL::bigint AS "Id",
    NULL::integer AS uses;`
	if b, a := normalizeTypes(before, p), normalizeTypes(widened, p); b != a {
		t.Fatalf("the closure's widening is a difference:\n%s", firstDiff(b, a))
	}
	for what, mistake := range map[string][2]string{
		"a column outside the closure": {"    uses integer", "    uses bigint"},
		"a sequence outside the plan":  {"CREATE SEQUENCE public.other_seq\n    AS integer\n", "CREATE SEQUENCE public.other_seq\n"},
		"a view column not widened":    {"    NULL::integer AS uses", "    NULL::bigint AS uses"},
	} {
		wrong := strings.Replace(widened, mistake[0], mistake[1], 1)
		if wrong == widened {
			t.Fatalf("%s: the test's dump has no %q", what, mistake[0])
		}
		if normalizeTypes(before, p) == normalizeTypes(wrong, p) {
			t.Errorf("%s widened by mistake is not a difference", what)
		}
	}
}

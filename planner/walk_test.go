package planner

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
)

// TestWalkOf chooses each table's walk: its key when it has one, else
// ctid ranges (a TID Range Scan from PostgreSQL 14, lists of positions
// before), and none for a keyless table of another access method.
func TestWalkOf(t *testing.T) {
	keyed := catalog.Table{Name: catalog.QName{Schema: "public", Name: "k"}, AccessMethod: "heap",
		Columns: []catalog.Column{{Name: "id", Type: "integer", NotNull: true}},
		Indexes: []catalog.Index{{Name: "k_pkey", Columns: []string{"id"}, Unique: true, Primary: true, Valid: true}}}
	keyless := catalog.Table{Name: catalog.QName{Schema: "public", Name: "h"}, AccessMethod: "heap", RowEstimate: 1000, Pages: 10,
		Columns: []catalog.Column{{Name: "aid", Type: "integer"}}}
	columnar := keyless
	columnar.AccessMethod = "columnar"
	for _, tc := range []struct {
		name    string
		version int
		table   catalog.Table
		method  string
		next    string // a fragment of the batch statement
	}{
		{"keyed", 120000, keyed, WalkKey, `"id" > $1 AND "id" <= $2`},
		{"keyless on 15", 150000, keyless, WalkCtidRange, "ctid >= format('(%s,0)', $1::bigint)::tid AND ctid < format('(%s,0)', $2::bigint)::tid"},
		{"keyless on 13", 130000, keyless, WalkCtidList, "ctid = ANY (ARRAY(SELECT format('(%s,%s)', p, i)::tid FROM generate_series($1::bigint, $2::bigint - 1) p"},
		{"keyless, not heap", 150000, columnar, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := &catalog.Snapshot{ServerVersion: tc.version}
			w := walkOf(snap, &tc.table)
			if w.Method != tc.method {
				t.Fatalf("walk %q (%s), want %q", w.Method, w.Why, tc.method)
			}
			bt := batches(&tc.table, w, "UPDATE x SET y = 1 WHERE "+rangeSlot)
			if tc.method == "" {
				if bt != nil {
					t.Errorf("batches for a table that cannot be walked: %+v", bt)
				}
				return
			}
			if !strings.Contains(bt.Next, tc.next) {
				t.Errorf("next batch:\n %s\nwant it to contain\n %s", bt.Next, tc.next)
			}
		})
	}
	// 1000 rows on 10 pages: a batch of 250 rows is 3 pages.
	bt := pageRanges(&keyless, WalkCtidRange, rangeSlot)
	if !strings.Contains(bt.NextBound, "ceil($3::numeric / 100)") || !strings.HasPrefix(bt.First, "ctid < format('(%s,0)', $1::bigint)::tid") {
		t.Errorf("page ranges: bound %s, first %s", bt.NextBound, bt.First)
	}
}

// TestSliceBy renders the queries that bound a key walk's slices when
// the key's first column is an integer, and says why not otherwise: the
// walk then runs as one slice whatever --workers asks.
func TestSliceBy(t *testing.T) {
	idx := []catalog.Index{{Name: "t_pkey", Columns: []string{"tenant", "id"}, Unique: true, Primary: true, Valid: true}}
	for _, tc := range []struct {
		name, typ   string
		lowest, cut string // "" when not sliced
	}{
		{"integer", "integer", `SELECT l."tenant"::bigint FROM "public"."t" l ORDER BY l."tenant", l."id" LIMIT 1`,
			`SELECT l."tenant"::text, l."id"::text FROM "public"."t" l WHERE l."tenant" <= $1::bigint ORDER BY l."tenant" DESC, l."id" DESC LIMIT 1`},
		{"smallint", "smallint", `SELECT l."tenant"::bigint`, `WHERE l."tenant" <= $1::bigint`},
		{"uuid", "uuid", "", ""},
		{"text", "text", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := catalog.Table{Name: catalog.QName{Schema: "public", Name: "t"}, AccessMethod: "heap", Indexes: idx,
				Columns: []catalog.Column{{Name: "tenant", Type: tc.typ, NotNull: true}, {Name: "id", Type: "integer", NotNull: true}}}
			w := walkOf(&catalog.Snapshot{ServerVersion: 150000}, &tab)
			bt := batches(&tab, w, "UPDATE x SET y = 1 WHERE "+rangeSlot)
			if tc.lowest == "" {
				if bt.Lowest != "" || bt.SliceBound != "" || !strings.Contains(bt.NoSlices, `"tenant" is of type `+tc.typ+", not an integer") {
					t.Errorf("a %s first key column: lowest %q, slice bound %q, no slices %q; want no slices, and why", tc.typ, bt.Lowest, bt.SliceBound, bt.NoSlices)
				}
				return
			}
			if !strings.Contains(bt.Lowest, tc.lowest) || !strings.Contains(bt.SliceBound, tc.cut) || bt.NoSlices != "" {
				t.Errorf("a %s first key column:\n lowest %s\n slice bound %s\n no slices %q", tc.typ, bt.Lowest, bt.SliceBound, bt.NoSlices)
			}
		})
	}
}

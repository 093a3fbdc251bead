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

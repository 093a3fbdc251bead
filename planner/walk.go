package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// The ways a backfill or a verification goes through a table.
const (
	// WalkKey is keyset pagination on a unique NOT NULL key.
	WalkKey = "key"
	// WalkCtidRange walks ranges of pages, ctid >= '(p,0)' AND ctid <
	// '(p+n,0)': a TID Range Scan (PostgreSQL 14 and later).
	WalkCtidRange = "ctid-range"
	// WalkCtidList walks the same ranges of pages through the list of
	// every possible tuple position in them, ctid = ANY(...): a TID Scan,
	// for PostgreSQL 12 and 13, where a range of ctids is a full scan.
	WalkCtidList = "ctid-list"
)

// tidRangeScanVersion is the first server_version_num with TID Range Scan.
const tidRangeScanVersion = 140000

// defaultRowsPerPage sizes the page ranges of a table never vacuumed or
// analyzed (no reltuples/relpages yet). The throttle corrects the batch
// size from the batches' durations whatever the figure.
const defaultRowsPerPage = 60

// Walk is how the backfill and the verifications go through one table (a
// leaf), and why.
type Walk struct {
	Table  catalog.QName `json:"table"`
	Method string        `json:"method"` // WalkKey, WalkCtidRange or WalkCtidList; "" when none is possible
	Key    []string      `json:"key,omitempty"`
	Why    string        `json:"why"`
}

// walkOf chooses the walk of a leaf table: its unique NOT NULL key when it
// has one, else its physical position. A ctid is stable only for the life
// of a row version, which is enough: the walk only has to reach every row
// version that existed before the sync trigger, and every version written
// since (an UPDATE moving a row included) went through the trigger.
func walkOf(snap *catalog.Snapshot, t *catalog.Table) Walk {
	w := Walk{Table: t.Name}
	if key := batchKey(t); key != nil {
		w.Method, w.Key, w.Why = WalkKey, key, "keyset on "+keyKind(t, key)
		return w
	}
	switch {
	case t.AccessMethod != "" && t.AccessMethod != "heap":
		w.Why = fmt.Sprintf("no primary key or unique NOT NULL key, and access method %q has no ctid order pgwiden can rely on", t.AccessMethod)
	case snap.ServerVersion >= tidRangeScanVersion:
		w.Method, w.Key = WalkCtidRange, []string{"ctid"}
		w.Why = "no primary key or unique NOT NULL key: ranges of pages by ctid (TID Range Scan), up to the table's size when the walk begins"
	default:
		w.Method, w.Key = WalkCtidList, []string{"ctid"}
		w.Why = "no primary key or unique NOT NULL key: ranges of pages by ctid, fetched as lists of tuple positions (TID Scan; PostgreSQL before 14 has no TID Range Scan), up to the table's size when the walk begins"
	}
	return w
}

// keyKind says which index the key walk uses.
func keyKind(t *catalog.Table, key []string) string {
	for _, ix := range t.Indexes {
		if ix.Primary && strings.Join(ix.Columns, ",") == strings.Join(key, ",") {
			return "the primary key (" + strings.Join(key, ", ") + ")"
		}
	}
	return "a unique index on NOT NULL columns (" + strings.Join(key, ", ") + ")"
}

// batches renders the batch statements of stmt (with one rangeSlot) for
// walk w of table t; nil when the table cannot be walked.
func batches(t *catalog.Table, w Walk, stmt string) *Batch {
	switch w.Method {
	case WalkKey:
		return keyset(t, w.Key, stmt)
	case WalkCtidRange, WalkCtidList:
		return pageRanges(t, w.Method, stmt)
	}
	return nil
}

// pageRanges renders a walk by ctid over ranges of pages. The cursor and
// the stop are page numbers: the stop is the table's size in pages when
// the walk begins (rows added later are in pages beyond it, or carry the
// trigger's copy), and a batch covers [cursor, bound). The governor asks
// for rows; the bound turns them into pages with the table's rows per page
// from statistics, and reports that estimate as the batch's rows.
func pageRanges(t *catalog.Table, method, stmt string) *Batch {
	rpp := rowsPerPage(t)
	pages := func(size string) string {
		return fmt.Sprintf("greatest(ceil(%s::numeric / %d), 1)::bigint", size, rpp)
	}
	pred := func(lo, hi string) string {
		if method == WalkCtidList {
			return fmt.Sprintf("ctid = ANY (ARRAY(SELECT format('(%%s,%%s)', p, i)::tid FROM generate_series(%s, %s - 1) p, "+
				"generate_series(1, (current_setting('block_size')::int - 24) / 28) i))", lo, hi)
		}
		if lo == "0" {
			return fmt.Sprintf("ctid < format('(%%s,0)', %s)::tid", hi)
		}
		return fmt.Sprintf("ctid >= format('(%%s,0)', %s)::tid AND ctid < format('(%%s,0)', %s)::tid", lo, hi)
	}
	return &Batch{
		Key:      []string{"ctid"},
		Walk:     method,
		Estimate: int64(max(t.RowEstimate, 0)),
		// A table with no live row has nothing to copy: no row, no stop.
		Last: fmt.Sprintf("SELECT (pg_relation_size(l.tableoid) / current_setting('block_size')::int)::text FROM ONLY %s l LIMIT 1", t.Name.Quoted()),
		FirstBound: fmt.Sprintf("SELECT b::text, b * %d FROM (SELECT least(%s, $1::bigint) AS b) s",
			rpp, pages("$2")),
		NextBound: fmt.Sprintf("SELECT b::text, (b - $1::bigint) * %d FROM (SELECT least($1::bigint + %s, $2::bigint) AS b) s WHERE b > $1::bigint",
			rpp, pages("$3")),
		First: strings.Replace(stmt, rangeSlot, pred("0", "$1::bigint"), 1),
		Next:  strings.Replace(stmt, rangeSlot, pred("$1::bigint", "$2::bigint"), 1),
	}
}

// rowsPerPage is the table's live rows per page from statistics.
func rowsPerPage(t *catalog.Table) int64 {
	if t.RowEstimate <= 0 || t.Pages <= 0 {
		return defaultRowsPerPage
	}
	return max(int64(math.Round(t.RowEstimate/float64(t.Pages))), 1)
}

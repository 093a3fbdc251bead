package runway

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// Status is a runway in use, read live from the catalog.
type Status struct {
	Sequence string `json:"sequence"`
	// From and To are the runway's first and last id; Last the id handed
	// out last (nil when none yet, or not readable).
	From int64  `json:"from"`
	To   int64  `json:"to"`
	Last *int64 `json:"last"`
	// Left is how many ids remain; Used the fraction of the runway used.
	Left int64   `json:"left"`
	Used float64 `json:"used"`
}

// statusSQL reads the sequence feeding $1.$2 (serial or identity): its
// bounds, its last value as pg_sequences shows it (NULL without privilege,
// rather than an error) and the column's type.
const statusSQL = `/* pgwiden runway status */
SELECT n.nspname || '.' || c.relname, s.seqmin, s.seqmax,
       CASE WHEN has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') THEN pg_sequence_last_value(s.seqrelid) END,
       format_type(a.atttypid, NULL)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_sequence s ON s.seqrelid = pg_get_serial_sequence($1, $2)::regclass
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped
  AND s.seqincrement > 0 AND s.seqmax < 0`

// Read returns the runway the sequence feeding t is on, nil when it is on
// none (or t no longer exists). It only reads.
func Read(ctx context.Context, q Querier, t planner.Target) (*Status, error) {
	var seq, typ string
	var minv, maxv int64
	var last *int64
	err := q.QueryRow(ctx, statusSQL, t.Table.Quoted(), t.Column).Scan(&seq, &minv, &maxv, &last, &typ)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the sequence of %s: %w", t, err)
	}
	st := NewStatus(seq, minv, maxv, last, typ)
	return &st, nil
}

// NewStatus describes the runway of a sequence (MINVALUE minv, MAXVALUE
// maxv, last value last) feeding a column of type colType. Prepare's ALTER
// SEQUENCE ... AS bigint moves a runway's MINVALUE to the bigint minimum:
// the runway still begins at the column type's minimum.
func NewStatus(seq string, minv, maxv int64, last *int64, colType string) Status {
	st := Status{Sequence: seq, From: minv, To: maxv, Last: last}
	if m, ok := catalog.TypeMin(colType); ok {
		st.From = max(minv, m)
	}
	size := st.To - st.From + 1
	st.Left = size
	if last != nil {
		st.Left = min(max(st.To-*last, 0), size)
	}
	st.Used = 1 - float64(st.Left)/float64(size)
	return st
}

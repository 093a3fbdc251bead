package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/catalog"
)

// Querier is what Scan and ReadHistory need: a pool, a connection or a
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Scan reads the current value of every candidate of snap. It only runs
// SELECTs: one on pg_sequences, and one index-backed max() per column.
func Scan(ctx context.Context, q Querier, snap *catalog.Snapshot) ([]Finding, error) {
	cands := Candidates(snap)
	vals, err := readValues(ctx, q, cands)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, len(cands))
	for i, c := range cands {
		f := Finding{Object: c.Object, Kind: c.Kind, Type: c.Type, Limit: c.Limit, Note: c.Note, viaRef: c.ViaRef}
		if c.Sequence != nil {
			f.Sequence = c.Sequence.String()
		}
		v := vals[sourceKey(c.Source)]
		f.Current = v.value
		if v.note != "" {
			f.Note = joinNote(v.note, f.Note)
		}
		f.Used = Used(f.Current, f.Limit)
		out[i] = f
	}
	return out, nil
}

// reading is one value read from the database, or why there is none.
type reading struct {
	value *int64
	note  string
}

func sourceKey(s Source) string {
	switch {
	case s.Sequence != nil:
		return "S" + s.Sequence.Quoted()
	case s.Table != nil:
		return "I" + s.Table.Quoted() + "." + catalog.Ident(s.Column)
	}
	return ""
}

// readValues reads each distinct source once.
func readValues(ctx context.Context, q Querier, cands []Candidate) (map[string]reading, error) {
	vals := map[string]reading{}
	var seqs map[catalog.QName]*int64
	for _, c := range cands {
		key := sourceKey(c.Source)
		if _, done := vals[key]; done || key == "" {
			continue
		}
		if s := c.Source.Sequence; s != nil {
			if seqs == nil {
				var err error
				if seqs, err = readSequences(ctx, q); err != nil {
					return nil, err
				}
			}
			r := reading{value: seqs[*s]}
			if r.value == nil {
				r.note = "sequence " + s.String() + " not used yet or not readable"
			}
			vals[key] = r
			continue
		}
		r, err := readMax(ctx, q, *c.Source.Table, c.Source.Column)
		if err != nil {
			return nil, err
		}
		vals[key] = r
	}
	return vals, nil
}

// readSequences reads every sequence's last_value in one query; it is NULL
// for a sequence never used or one the current user may not read.
func readSequences(ctx context.Context, q Querier) (map[catalog.QName]*int64, error) {
	rows, err := q.Query(ctx, "/* pgwiden audit */ SELECT schemaname, sequencename, last_value FROM pg_catalog.pg_sequences")
	if err != nil {
		return nil, fmt.Errorf("read pg_sequences: %w", err)
	}
	out := map[catalog.QName]*int64{}
	var n catalog.QName
	var v *int64
	_, err = pgx.ForEachRow(rows, []any{&n.Schema, &n.Name, &v}, func() error {
		out[n] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read pg_sequences: %w", err)
	}
	return out, nil
}

// readMax reads max(col) of t. Candidates only asks for it when an index
// leads with col, so the planner answers it from one end of that index.
func readMax(ctx context.Context, q Querier, t catalog.QName, col string) (reading, error) {
	sql := "/* pgwiden audit */ SELECT max(" + catalog.Ident(col) + ")::bigint FROM " + t.Quoted() // names quoted by catalog
	var v *int64
	err := q.QueryRow(ctx, sql).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		// insufficient_privilege: report the column, but as unknown.
		return reading{note: "unknown (no SELECT privilege on " + t.String() + ")"}, nil
	}
	if err != nil {
		return reading{}, fmt.Errorf("read max(%s) of %s: %w", col, t.String(), err)
	}
	if v == nil {
		return reading{note: "table " + t.String() + " is empty"}, nil
	}
	return reading{value: v}, nil
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

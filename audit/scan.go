package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/runway"
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
		f := Finding{Object: c.Object, Kind: c.Kind, Type: c.Type, Limit: c.Limit, Note: c.Note, viaRef: c.ViaRef, target: c.Target}
		if c.Sequence != nil {
			f.Sequence = c.Sequence.String()
		}
		v := vals[sourceKey(c.Source)]
		f.Current, f.Unknown = v.value, v.unknown
		if v.note != "" {
			f.Note = joinNote(v.note, f.Note)
		}
		f.Used = Used(f.Current, f.Limit)
		if s := c.Runway; s != nil {
			st := runway.NewStatus(s.Name.String(), s.Min, s.Max, f.Current, c.Type)
			f.Runway, f.Used = &st, st.Used
			f.Note = joinNote(fmt.Sprintf("on the emergency runway: %d of %d negative ids left", st.Left, st.To-st.From+1), f.Note)
		}
		out[i] = f
	}
	return out, nil
}

// reading is one value read from the database, or why there is none.
// unknown is set when the reason is a missing privilege.
type reading struct {
	value   *int64
	note    string
	unknown bool
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
	var seqs map[catalog.QName]seqValue
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
			v, ok := seqs[*s]
			r := reading{value: v.value}
			switch {
			case !ok || !v.readable:
				r.note, r.unknown = "unknown (no privilege on sequence "+s.String()+")", true
			case v.value == nil:
				r.note = "sequence " + s.String() + " not used yet"
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

// seqValue is a sequence's last value (nil when never used) and whether
// the current user may read it at all.
type seqValue struct {
	value    *int64
	readable bool
}

// readSequences reads every sequence's last_value in one query; it is NULL
// for a sequence never used or one the current user may not read, which
// the privilege check tells apart.
func readSequences(ctx context.Context, q Querier) (map[catalog.QName]seqValue, error) {
	rows, err := q.Query(ctx, `/* pgwiden audit */ SELECT schemaname, sequencename, last_value,
		has_sequence_privilege(format('%I.%I', schemaname, sequencename), 'SELECT,USAGE') FROM pg_catalog.pg_sequences`)
	if err != nil {
		return nil, fmt.Errorf("read pg_sequences: %w", err)
	}
	out := map[catalog.QName]seqValue{}
	var n catalog.QName
	var v seqValue
	_, err = pgx.ForEachRow(rows, []any{&n.Schema, &n.Name, &v.value, &v.readable}, func() error {
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
		return reading{note: "unknown (no SELECT privilege on " + t.String() + ")", unknown: true}, nil
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

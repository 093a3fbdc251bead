package runway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/catalog"
)

// Querier is what Evaluate needs: a pool, a connection or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Evaluate asks the server whether the new ids pass what could reject them:
// the column's domain, and every CHECK constraint on a column that receives
// them. Each is evaluated with the first and the last id of the runway, on
// a row where every other column is NULL and on the table's newest row
// (the one with the largest key), so a CHECK such as "id > 0 OR legacy"
// is judged on real data, not on its text. It reads only.
func Evaluate(ctx context.Context, q Querier, snap *catalog.Snapshot, ch *Change) error {
	if ch.Type != ch.Base {
		if err := evalDomain(ctx, q, ch); err != nil {
			return err
		}
		ch.Checked = append(ch.Checked, "domain "+ch.Type+" accepts them")
	}
	for _, ref := range ch.Columns {
		t := snap.Table(ref.Table)
		if t == nil {
			continue
		}
		for _, con := range t.Constraints {
			if con.Type != catalog.ConCheck || !slices.Contains(con.Columns, ref.Column) {
				continue
			}
			if err := evalCheck(ctx, q, t, ref.Column, con, ch); err != nil {
				return err
			}
			ch.Checked = append(ch.Checked, fmt.Sprintf("CHECK %s on %s accepts them (%s)", con.Name, t.Name, con.Def))
		}
	}
	return nil
}

// evalDomain casts the runway's ends to the column's domain.
func evalDomain(ctx context.Context, q Querier, ch *Change) error {
	for _, v := range []int64{ch.From, ch.To} {
		var ok bool
		// ch.Type is format_type output: a type name quoted as SQL needs.
		err := q.QueryRow(ctx, "/* pgwiden runway */ SELECT $1::bigint::"+ch.Type+" IS NOT NULL", v).Scan(&ok) // the type name comes from format_type
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23514" {
			return &RefusedError{ch.Target.String(), fmt.Sprintf("is of domain %s, which rejects %d: %s", ch.Type, v, pgErr.Message),
				"change the domain's CHECK to accept negative ids (ALTER DOMAIN ... DROP CONSTRAINT / ADD CONSTRAINT ... NOT VALID), or widen instead"}
		}
		if err != nil {
			return fmt.Errorf("evaluate domain %s of %s: %w", ch.Type, ch.Target, err)
		}
	}
	return nil
}

// checkExpr is the expression of a CHECK constraint's definition,
// "CHECK ((id > 0)) NOT VALID" -> "(id > 0)". The definition is the
// server's own deparse (pg_get_constraintdef).
func checkExpr(def string) string {
	e := strings.TrimPrefix(def, "CHECK ")
	e = strings.TrimSuffix(e, " NOT VALID")
	return strings.TrimSuffix(e, " NO INHERIT")
}

// evalCheck evaluates con with col set to each end of the runway, on an
// all-NULL row and on the newest row of t. A CHECK passes unless it is
// false, as in PostgreSQL.
func evalCheck(ctx context.Context, q Querier, t *catalog.Table, col string, con catalog.Constraint, ch *Change) error {
	var nulls, newest []string
	for _, c := range t.Columns {
		name := catalog.Ident(c.Name)
		if c.Name == col {
			nulls = append(nulls, "$1::"+c.Type+" AS "+name)
			newest = append(newest, "$1::"+c.Type+" AS "+name)
			continue
		}
		nulls = append(nulls, "NULL::"+c.Type+" AS "+name)
		newest = append(newest, "src."+name)
	}
	expr := checkExpr(con.Def)
	// The newest row when an index finds it at once; any row otherwise,
	// rather than sorting a whole table.
	order := ""
	if t.IndexLeadsWith(col) {
		order = " ORDER BY src." + catalog.Ident(col) + " DESC"
	}
	rows := "SELECT " + strings.Join(nulls, ", ") +
		" UNION ALL (SELECT " + strings.Join(newest, ", ") + " FROM " + t.Name.Quoted() + " src" + order + " LIMIT 1)"
	sql := "/* pgwiden runway */ SELECT coalesce(bool_and((" + expr + ") IS NOT FALSE), true) FROM (" + rows + ") AS " + catalog.Ident(t.Name.Name) // the expression comes from pg_get_constraintdef; names are quoted
	for _, v := range []int64{ch.From, ch.To} {
		var ok bool
		if err := q.QueryRow(ctx, sql, v).Scan(&ok); err != nil {
			return fmt.Errorf("evaluate CHECK %s of %s with %s = %d: %w", con.Name, t.Name, col, v, err)
		}
		if !ok {
			return &RefusedError{t.Name.String() + "." + col, fmt.Sprintf("would receive id %d, which CHECK %s rejects (%s)", v, con.Name, con.Def),
				fmt.Sprintf("change the constraint to accept negative ids (ALTER TABLE %s DROP CONSTRAINT %s, then ADD CONSTRAINT ... NOT VALID), or widen instead",
					t.Name.Quoted(), catalog.Ident(con.Name))}
		}
	}
	return nil
}

package rehearsal

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// TableSize is one closure table's size at one moment, summed over its
// leaf partitions (a partitioned parent has no storage of its own).
type TableSize struct {
	Table string `json:"table"`
	Size
	// TableBytes is pg_table_size: the heap with its TOAST, free space map
	// and visibility map.
	TableBytes int64 `json:"table_bytes"`
	Leaves     int   `json:"leaves"`
}

// sizeSQL reads the statistics and sizes of one table and its leaves from
// the catalog: reltuples and the pg_*_size functions, never a scan. A
// missing table gives found = false. pg_partition_tree lists nothing for a
// table that is not partitioned, hence the first branch.
const sizeSQL = `/* pgwiden rehearse sizes */
WITH t AS (SELECT to_regclass($1) AS oid),
leaves AS (
  SELECT c.oid, c.reltuples FROM t JOIN pg_catalog.pg_class c ON c.oid = t.oid WHERE c.relkind <> 'p'
  UNION ALL
  SELECT c.oid, c.reltuples FROM t, pg_catalog.pg_partition_tree(t.oid) p
    JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE p.isleaf
)
SELECT (SELECT oid FROM t) IS NOT NULL, count(*)::int,
  coalesce(sum(greatest(reltuples, 0)), 0)::float8, coalesce(bool_and(reltuples >= 0), true),
  coalesce(sum(pg_catalog.pg_table_size(oid)), 0)::bigint,
  coalesce(sum(pg_catalog.pg_indexes_size(oid)), 0)::bigint,
  coalesce(sum(pg_catalog.pg_total_relation_size(oid)), 0)::bigint
FROM leaves`

// readSizes reads the sizes of tables in one read-only transaction whose
// lock_timeout bounds the instant ACCESS SHARE lock each size function
// takes: during a phase's ACCESS EXCLUSIVE step it gives up rather than
// queue (and make the application queue behind it).
func readSizes(ctx context.Context, pool *pgxpool.Pool, tables []catalog.QName) ([]TableSize, error) {
	var out []TableSize
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', '5s', true), set_config('statement_timeout', '60s', true)"); err != nil {
			return err
		}
		for _, t := range tables {
			ts := TableSize{Table: t.String()}
			err := tx.QueryRow(ctx, sizeSQL, t.Quoted()).Scan(&ts.Found, &ts.Leaves, &ts.Rows, &ts.RowsKnown,
				&ts.TableBytes, &ts.IndexBytes, &ts.TotalBytes)
			if err != nil {
				return fmt.Errorf("size of %s: %w", t, err)
			}
			out = append(out, ts)
		}
		return nil
	})
	return out, err
}

// totalBytes adds up the tables' total sizes.
func totalBytes(sizes []TableSize) int64 {
	var n int64
	for _, s := range sizes {
		n += s.TotalBytes
	}
	return n
}

// sizeMap indexes sizes by table for the extrapolation.
func sizeMap(sizes []TableSize) map[string]Size {
	m := make(map[string]Size, len(sizes))
	for _, s := range sizes {
		m[s.Table] = s.Size
	}
	return m
}

// closureTables lists the plan's tables, parents first.
func closureTables(p *planner.Plan) []catalog.QName {
	out := make([]catalog.QName, len(p.Tables))
	for i, tc := range p.Tables {
		out[i] = tc.Table
	}
	return out
}

// closureOf maps every table and leaf partition of the plan to its
// closure table's name, for attributing steps.
func closureOf(p *planner.Plan) map[string]string {
	m := map[string]string{}
	for _, tc := range p.Tables {
		m[tc.Table.String()] = tc.Table.String()
		for _, l := range tc.Leaves {
			m[l.String()] = tc.Table.String()
		}
	}
	return m
}

// errNoWAL is a server where pg_current_wal_lsn cannot be read (a
// standby): the report then has no WAL figures.
var errNoWAL = errors.New("WAL position unavailable")

// walLSN reads the current WAL insert position.
func walLSN(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var lsn string
	if err := pool.QueryRow(ctx, "/* pgwiden rehearse wal */ SELECT pg_catalog.pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return "", fmt.Errorf("%w: %w", errNoWAL, err)
	}
	return lsn, nil
}

// walSince returns the WAL written since lsn and the new position.
func walSince(ctx context.Context, pool *pgxpool.Pool, lsn string) (int64, string, error) {
	var n int64
	var now string
	err := pool.QueryRow(ctx, `/* pgwiden rehearse wal */ SELECT pg_catalog.pg_wal_lsn_diff(l, $1::pg_lsn)::bigint, l::text
		FROM (SELECT pg_catalog.pg_current_wal_lsn() AS l) s`, lsn).Scan(&n, &now)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", errNoWAL, err)
	}
	return n, now, nil
}

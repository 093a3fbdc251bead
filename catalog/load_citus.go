package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
	"slices"
)

//go:embed queries/citus.sql
var citusSQL string

// loadCitus records the Citus version and, for each loaded table Citus
// knows, its kind, distribution column, colocation group and shard count.
// Without the citus extension it reads nothing more.
func (l *loader) loadCitus(ctx context.Context) error {
	var version *string
	if err := l.q.QueryRow(ctx, `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'citus')`).Scan(&version); err != nil {
		return err
	}
	if version == nil {
		return nil
	}
	l.snap.Citus = *version
	if err := l.markDistributedSequences(ctx); err != nil {
		return err
	}
	type row struct {
		OID            uint32  `db:"oid"`
		Method         string  `db:"method"`
		RepModel       string  `db:"repmodel"`
		DistColumn     *string `db:"dist_column"`
		ColocationID   int     `db:"colocation_id"`
		ColocationType *string `db:"colocation_type"`
		Shards         int     `db:"shards"`
	}
	return forTables(ctx, l, citusSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		t.Citus = &CitusTable{Kind: citusKind(r.Method, r.RepModel, r.ColocationID), Method: r.Method,
			DistributionColumn: deref(r.DistColumn), ColocationID: r.ColocationID,
			ColocationType: deref(r.ColocationType), ShardCount: r.Shards}
	})
}

// citusKind classifies a pg_dist_partition row: partmethod n with
// replication model t is a reference table; n in colocation group 0 a
// Citus local table; n elsewhere a single-shard distributed table.
func citusKind(method, repmodel string, colocation int) string {
	switch {
	case method != "n":
		return CitusDistributed
	case repmodel == "t":
		return CitusReference
	case colocation == 0:
		return CitusLocal
	}
	return CitusSingleShard
}

// distributedSequencesSQL lists the sequences in Citus's table of the
// objects it propagates: pg_catalog.pg_dist_object since Citus 11,
// citus.pg_dist_object before. The other branch is never planned, so the
// name that does not exist is never resolved.
const distributedSequencesSQL = `SELECT n.nspname AS schema, c.relname AS name
FROM pg_catalog.pg_dist_object o JOIN pg_class c ON c.oid = o.objid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE o.classid = 'pg_class'::regclass AND c.relkind = 'S'`

const distributedSequencesOldSQL = `SELECT n.nspname AS schema, c.relname AS name
FROM citus.pg_dist_object o JOIN pg_class c ON c.oid = o.objid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE o.classid = 'pg_class'::regclass AND c.relkind = 'S'`

// markDistributedSequences flags the loaded sequences Citus propagates.
func (l *loader) markDistributedSequences(ctx context.Context) error {
	var current, old bool
	if err := l.q.QueryRow(ctx, `SELECT to_regclass('pg_catalog.pg_dist_object') IS NOT NULL, to_regclass('citus.pg_dist_object') IS NOT NULL`).Scan(&current, &old); err != nil {
		return err
	}
	query := distributedSequencesSQL
	switch {
	case old && !current:
		query = distributedSequencesOldSQL
	case !current:
		return nil // a Citus too old to propagate sequences
	}
	names, err := collect[QName](ctx, l.q, query)
	if err != nil {
		return err
	}
	for i := range l.snap.Sequences {
		l.snap.Sequences[i].CitusDistributed = slices.Contains(names, l.snap.Sequences[i].Name)
	}
	return nil
}

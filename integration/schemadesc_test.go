package integration

import (
	"context"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schema comparisons of these tests (before a migration and after it,
// after a rollback, ...) were pg_dump --schema-only. pg_dump refuses a
// server newer than itself and the server packages of the version matrix
// ship none, so the tests compare a description of the schema read from
// the catalog, on every version, and add pg_dump's output where a pg_dump
// of the server's own version is at hand (PostgreSQL 15 here).
//
// The description holds what pg_dump --schema-only --no-owner would show
// of user schemas (pgwiden's own schema aside), through the server's own
// deparsers: each table's columns in order (type, collation, NOT NULL,
// default, identity, generated expression, statistics target, privileges,
// comment), its kind, options, partitioning, inheritance, replica
// identity, row security and privileges; every constraint (name,
// pg_get_constraintdef, where it is inherited from, comment), index
// (pg_get_indexdef, clustered, comment), trigger (pg_get_triggerdef,
// enabled), rule, policy, extended statistics, view and materialized
// view (pg_get_viewdef, options, privileges, comment), sequence (type,
// bounds unless the type's own, start, increment, cache, cycle, owner
// column) and function (pg_get_functiondef), and publication membership.
// Columns print in CREATE TABLE blocks, so normalizeTypes treats this
// text as it treats pg_dump's.

// userSchemas limits a query to the schemas a dump would show.
const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgwiden') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

var describeQueries = []string{
	// Tables, one line of properties each.
	`SELECT format('table %I.%I kind=%s persistence=%s options=%s partkey=%s bound=%s inherits=%s replident=%s rls=%s/%s acl=%s comment=%L',
	        n.nspname, c.relname, c.relkind, c.relpersistence, c.reloptions,
	        CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, pg_get_expr(c.relpartbound, c.oid),
	        (SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid),
	        c.relreplident, c.relrowsecurity, c.relforcerowsecurity, c.relacl, obj_description(c.oid, 'pg_class'))
	 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE c.relkind IN ('r', 'p', 'f') AND ` + userSchemas,
	// conislocal is left out for NOT NULL (18+): the server marks a
	// partition's inherited NOT NULL local once a primary key is added on
	// the partition itself (as the swap of a partitioned key does), a flag
	// pg_dump does not print (it dumps partitions as tables, then ATTACH).
	`SELECT format('constraint %I on %I.%I: %s local=%s inherited=%s comment=%L', co.conname, n.nspname, c.relname,
	        pg_get_constraintdef(co.oid), CASE WHEN co.contype <> 'n' THEN co.conislocal END, co.coninhcount > 0,
	        obj_description(co.oid, 'pg_constraint'))
	 FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE ` + userSchemas,
	`SELECT format('index %I.%I: %s clustered=%s comment=%L', n.nspname, ic.relname, pg_get_indexdef(i.indexrelid),
	        i.indisclustered, obj_description(i.indexrelid, 'pg_class'))
	 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
	 WHERE ` + userSchemas,
	`SELECT format('trigger %I on %I.%I: %s enabled=%s', g.tgname, n.nspname, c.relname, pg_get_triggerdef(g.oid), g.tgenabled)
	 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE NOT g.tgisinternal AND ` + userSchemas,
	`SELECT format('rule %I on %I.%I: %s', r.rulename, n.nspname, c.relname, pg_get_ruledef(r.oid))
	 FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE r.rulename <> '_RETURN' AND ` + userSchemas,
	`SELECT format('policy %I on %I.%I: cmd=%s permissive=%s roles=%s using=%s check=%s', p.polname, n.nspname, c.relname,
	        p.polcmd, p.polpermissive, p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
	 FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE ` + userSchemas,
	`SELECT format('statistics %I.%I: %s', n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid))
	 FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
	 WHERE ` + userSchemas,
	`SELECT format('view %I.%I kind=%s options=%s acl=%s comment=%L: %s', n.nspname, c.relname, c.relkind, c.reloptions, c.relacl,
	        obj_description(c.oid, 'pg_class'), pg_get_viewdef(c.oid))
	 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE c.relkind IN ('v', 'm') AND ` + userSchemas,
	// A sequence's bounds print only when they are not its type's own:
	// pg_dump leaves those out, and a widened sequence keeps that form.
	`SELECT format('sequence %I.%I AS %s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s acl=%s comment=%L',
	        n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
	        CASE WHEN s.seqmin IN (1, -1, -2147483648, -9223372036854775808, -32768) THEN 'default' ELSE s.seqmin::text END,
	        CASE WHEN s.seqmax IN (-1, 32767, 2147483647, 9223372036854775807) THEN 'default' ELSE s.seqmax::text END,
	        s.seqcache, s.seqcycle,
	        (SELECT format('%s.%I', d.refobjid::regclass, a.attname) FROM pg_depend d
	         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
	         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')),
	        c.relacl, obj_description(c.oid, 'pg_class'))
	 FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE ` + userSchemas,
	`SELECT format('function %s', pg_get_functiondef(p.oid))
	 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	 WHERE p.prokind = 'f' AND ` + userSchemas,
	`SELECT format('publication %I: %s', p.pubname, pr.prrelid::regclass)
	 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid`,
}

// tableColumnsQuery prints each table's columns in order, as a CREATE
// TABLE block.
const tableColumnsQuery = `
SELECT format('%I.%I', n.nspname, c.relname),
       coalesce(array_agg(format('    %I %s%s%s%s%s%s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
           CASE WHEN a.attcollation <> 0 AND a.attcollation IS DISTINCT FROM t.typcollation
                THEN (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname) FROM pg_collation co
                      JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) ELSE '' END,
           CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
           CASE WHEN a.attgenerated = '' AND d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END,
           CASE WHEN a.attgenerated <> '' THEN format(' GENERATED ALWAYS AS (%s) %s', pg_get_expr(d.adbin, d.adrelid), a.attgenerated::text) ELSE '' END,
           CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END,
           CASE WHEN coalesce(a.attstattarget::int, -1) <> -1 THEN ' STATISTICS ' || a.attstattarget::text ELSE '' END,
           CASE WHEN a.attacl IS NOT NULL THEN ' ACL ' || a.attacl::text ELSE '' END,
           CASE WHEN col_description(c.oid, a.attnum) IS NOT NULL THEN ' COMMENT ' || quote_literal(col_description(c.oid, a.attnum)) ELSE '' END)
         ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'f') AND ` + userSchemas + `
GROUP BY n.nspname, c.relname
ORDER BY n.nspname, c.relname`

// describeSchema returns the catalog description of the database's user
// schemas: CREATE TABLE blocks of columns, then every other object's line,
// sorted.
func describeSchema(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var b strings.Builder
	rows, err := pool.Query(ctx, tableColumnsQuery)
	if err != nil {
		return "", err
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var name string
		var cols []string
		err := r.Scan(&name, &cols)
		return "CREATE TABLE " + name + " (\n" + strings.Join(cols, "\n") + "\n);", err
	})
	if err != nil {
		return "", err
	}
	b.WriteString(strings.Join(tables, "\n") + "\n")
	var lines []string
	for _, q := range describeQueries {
		rows, err := pool.Query(ctx, q)
		if err != nil {
			return "", err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", err
		}
		lines = append(lines, got...)
	}
	slices.Sort(lines)
	b.WriteString(strings.Join(lines, "\n") + "\n")
	return b.String(), nil
}

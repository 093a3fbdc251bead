// Package catalog reads the parts of pg_catalog that pgwiden needs into plain
// Go values.
//
// Load is the only code in pgwiden that queries the system catalogs. What it
// returns, a *Snapshot, holds no connection: the planner and the audit work on
// it as data, and it round-trips through JSON so that a catalog captured in the
// field (`pgwiden plan --dump-catalog`) becomes a test fixture.
//
// This package also owns identifier quoting (QName.Quoted, Ident) and the
// derived names pgwiden gives its own objects (names.go), so that every SQL
// string in the program quotes names in exactly one way.
//
// Import rules: catalog imports pgx and the standard library only.
package catalog

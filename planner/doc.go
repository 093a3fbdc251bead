// Package planner turns a catalog snapshot and one target column into a
// migration plan: the closure of columns that must widen together, what blocks
// or complicates the migration, and the exact SQL of every phase with the lock
// each statement takes.
//
// The planner is pure: Build takes no context, no connection and no clock, so
// every plan can be reproduced from a JSON catalog and checked against golden
// files. SQL is data here: a Step is rendered once, shown by `plan` and
// `--dry-run`, and executed by the migrator.
//
// Import rules: planner imports catalog, internal/format and the standard
// library only.
package planner

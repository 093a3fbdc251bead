// Package throttle decides how fast a background job may go: how many rows
// the next batch should take and how long to wait before it.
//
// It knows nothing of tables or SQL. A job reports each batch's outcome
// (rows, duration, error) and asks for the next Decision; the decision is
// computed by pure code with an injected clock, so it is tested without a
// database and without sleeping.
//
// Import rules: throttle imports the standard library only. The migrator
// depends on its value types and on a Governor interface it defines itself.
package throttle

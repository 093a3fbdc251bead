// Package load plays the application while a migration runs: it runs
// operations (a statement, a transaction) again and again, at a rate or
// back to back, and keeps what each phase of the migration cost them:
// their count, errors, latency percentiles and the operations it could not
// start because every worker was still waiting (the load fell behind).
//
// It is the one load generator of the project: `pgwiden rehearse`
// (--load-builtin, --load), the demo's writer and the integration tests'
// writers are all Specs run by a Runner; only their operations differ.
//
// Import rules: the standard library and pgconn (to name an error by its
// SQLSTATE); operations bring their own connections.
package load

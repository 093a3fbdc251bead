// Package pgerr classifies PostgreSQL errors and holds pgwiden's one retry
// policy.
//
// Retryable decides by SQLSTATE (never by message text) whether a failed
// statement may simply be run again; Do runs an operation under a Policy
// with exponential backoff and jitter, logging one line per retry.
// StepError ties a server error to the plan step whose SQL caused it, and
// Render and Caret turn it into what the CLI prints.
//
// Import rules: pgerr imports pgx/pgconn, cenkalti/backoff/v4 and zerolog,
// never pgwiden's other packages, so every package may use it.
package pgerr

// Command pgwiden-demo shows pgwiden at work on a throwaway PostgreSQL
// server. It is what `make demo` runs, after building bin/pgwiden.
//
// It finds a server as the integration tests do (internal/pgserver:
// PGWIDEN_TEST_DSN, then local binaries, then a Docker container), creates
// a database "demo" with the schema of a small SaaS product, recreates the
// incident pgwiden exists for (the int4 id sequence of a tags table at 93%
// of its range), and runs bin/pgwiden against it, printing each command and
// its output as an operator would see them. The scenes are the list in
// steps.go. The server and its temp dir are removed at the end, also on
// Ctrl-C; on a PGWIDEN_TEST_DSN server only the demo database is dropped.
//
// Import rules: the demo runs pgwiden as a separate binary, as operators
// do, and imports none of its packages; internal/pgserver is its only
// pgwiden import.
package main

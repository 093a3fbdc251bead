// Package pgtest gives integration tests a real PostgreSQL server.
//
// A test package calls Main from its TestMain. Main gets one server per
// test binary from internal/pgserver, which `make demo` uses too, trying in
// order PGWIDEN_TEST_DSN, a throwaway cluster made with local server
// binaries (PGWIDEN_PG_BIN, `pg_config --bindir`, /usr/lib/postgresql/*/bin),
// and a postgres:16-alpine container when a Docker engine answers; see
// package pgserver for the details. Main stops it when the tests end, also
// on SIGINT and SIGTERM; on Linux the kernel kills a local cluster if the
// test binary dies of SIGKILL.
//
// If no server can be had the tests fail, never skip: a green run must mean
// the SQL really ran. The message says how to provide a server.
//
// Each test then calls NewDB for a fresh database cloned from the
// pgwiden_tpl template, dropped again at cleanup, so tests can run in
// parallel without seeing each other's tables.
//
// Import rules: pgtest imports pgx and internal/pgserver, never pgwiden's
// other packages, so any package's tests may use it. Only test code imports
// pgtest; everything that does not need the testing package belongs in
// internal/pgserver.
package pgtest

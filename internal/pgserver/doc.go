// Package pgserver finds or starts a PostgreSQL server to run against: a
// throwaway one where it can. It is shared by the integration tests'
// harness (integration/pgtest) and by `make demo` (cmd/pgwiden-demo), so
// that both find a server in the same way.
//
// Start tries, in order:
//
//  1. PGWIDEN_TEST_DSN: a server the user runs; its role must be a
//     superuser or have CREATEDB. Start checks it and never stops it.
//  2. Local server binaries (PGWIDEN_PG_BIN, then `pg_config --bindir`, then
//     /usr/lib/postgresql/*/bin, newest first): a throwaway cluster is made
//     with initdb in a temp dir, and postgres runs as a child of this
//     process on a free loopback port with trust authentication. When this
//     process runs as root, initdb and postgres run as the unprivileged
//     "postgres" (or "nobody") user, because PostgreSQL refuses to run as
//     root. On Linux the kernel kills postgres when this process dies, even
//     of SIGKILL, and the next Start removes the temp dirs such deaths leave.
//  3. A postgres:16-alpine container through testcontainers-go, only when a
//     Docker engine answers.
//
// A source the user chose explicitly (either variable) that does not work is
// an error at once: falling through would hide the mistake. When nothing
// works the error lists every cause; HowToProvide tells the reader the fix.
//
// Import rules: pgserver imports pgx and testcontainers-go, and of pgwiden's
// own packages only internal/dsn (a leaf: pgx only), never the testing
// package (cmd/pgwiden-demo is not a
// test). Only integration/pgtest and cmd/pgwiden-demo import it: the pgwiden
// binary itself never starts servers.
package pgserver

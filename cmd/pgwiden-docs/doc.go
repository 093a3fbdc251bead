// Command pgwiden-docs writes the sample output in README.md and docs/*.md
// from a real run. It is what `make docs-samples` runs, after building
// bin/pgwiden.
//
// It starts a throwaway PostgreSQL server (internal/pgserver: local
// binaries, then a Docker container; it refuses a PGWIDEN_TEST_DSN server,
// whose state it could not vouch for), loads the demo's schema and data
// (cmd/pgwiden-demo/*.sql, read from disk), and runs bin/pgwiden through
// the scenes listed in scenes.go: audit, plan, two migrations of tags.id
// (one rolled back after the swap, one cleaned up), pause and throttle, a
// rehearsal. Each scene's output replaces the block of the same name in the
// Markdown files, between `<!-- sample: NAME -->` and `<!-- /sample -->`.
// A scene that ends with another exit status than the one it expects stops
// the run before any file is written.
//
// blocks_test.go keeps the files and the scenes in step without a server:
// every marked block names a scene and starts with that scene's command
// line, and every scene that shows output has a block.
//
// Import rules: like the demo, it runs pgwiden as a separate binary and
// imports only internal/pgserver of pgwiden's packages.
package main

// Package dsn is pgwiden's one place for connection strings: it parses
// them (Parse), opens a pool from them with pgwiden's session settings
// (Open), names a server in a message without its password (Describe),
// keeps passwords out of any text (Redact) and off command lines
// (WithoutPassword), and derives the DSN of another database or role
// (WithDatabase, WithUser) for the test harness and the demo.
//
// Passwords must never reach logs, errors, plans or reports: pgx hides
// them in its own messages, and everything else goes through here.
//
// Import rules: pgx only; the CLI, the rehearsal, the test harness and
// the demo import it.
package dsn

package pgserver

// FreePort returns a loopback port free at the moment, for another server
// a test starts next to the cluster (PgBouncer); the caller retries when it
// is taken before its server binds it.
func FreePort() (int, error) { return freePort() }

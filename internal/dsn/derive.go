package dsn

import (
	"fmt"
	"net/url"
	"strings"
)

// WithDatabase returns dsn pointing at database name, keeping every other
// setting (host, TLS, password) of the admin DSN.
func WithDatabase(dsn, name string) (string, error) {
	if !isURL(dsn) {
		// In keyword=value form a later keyword wins, in libpq and pgconn.
		return dsn + " dbname=" + quoteKV(name), nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Error quotes the whole string, password included.
		return "", fmt.Errorf("parse DSN %s as a URL", Describe(dsn))
	}
	u.Path, u.RawPath = "/"+name, ""
	q := u.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// WithUser returns dsn connecting as role with no password: the local
// cluster and the container trust every connection, so privilege tests
// need none.
func WithUser(dsn, role string) (string, error) {
	if !isURL(dsn) {
		return dsn + " user=" + quoteKV(role) + " password=''", nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse DSN %s as a URL", Describe(dsn))
	}
	u.User = url.User(role)
	q := u.Query()
	if q.Has("user") || q.Has("password") {
		q.Del("password")
		q.Del("user")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// quoteKV quotes a value for the keyword=value DSN syntax.
func quoteKV(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

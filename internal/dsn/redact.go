package dsn

import (
	"net/url"
	"regexp"
	"strings"
)

var (
	urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]*@`)
	kvPassword  = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
)

// Redact replaces the passwords of any DSN in s with "xxxxx": for an error
// text that may echo a DSN back.
func Redact(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}xxxxx@")
	return kvPassword.ReplaceAllString(s, "${1}xxxxx")
}

// WithoutPassword removes the password from a URL or key=value DSN, for a
// command line (pg_dump's), where ps would show it; the password then goes
// in PGPASSWORD.
func WithoutPassword(dsn string) string {
	if isURL(dsn) {
		u, err := url.Parse(dsn)
		if err == nil && u.User != nil {
			u.User = url.User(u.User.Username())
			q := u.Query()
			q.Del("password")
			u.RawQuery = q.Encode()
			return u.String()
		}
		return dsn
	}
	return kvPassword.ReplaceAllString(dsn, "")
}

// isURL tells the two libpq DSN syntaxes apart: URL or keyword=value.
func isURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

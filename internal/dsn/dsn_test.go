package dsn

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestWithDatabaseAndUser(t *testing.T) {
	for _, admin := range []string{
		"postgres://admin:s3cret@db.example:6543/postgres?sslmode=require&application_name=x",
		"host=db.example port=6543 user=admin password=s3cret dbname=postgres sslmode=require",
	} {
		dsn, err := WithDatabase(admin, "t_abc")
		if err != nil {
			t.Fatalf("WithDatabase(%s): %v", admin, err)
		}
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("parse %s: %v", dsn, err)
		}
		if cfg.Database != "t_abc" || cfg.User != "admin" || cfg.Password != "s3cret" || cfg.Host != "db.example" || cfg.Port != 6543 {
			t.Errorf("WithDatabase(%s) = %s: lost a setting", admin, dsn)
		}
		as, err := WithUser(dsn, "reader")
		if err != nil {
			t.Fatalf("WithUser(%s): %v", dsn, err)
		}
		cfg, err = pgconn.ParseConfig(as)
		if err != nil {
			t.Fatalf("parse %s: %v", as, err)
		}
		if cfg.User != "reader" || cfg.Password != "" || cfg.Database != "t_abc" {
			t.Errorf("WithUser(%s) = %s: want user reader, no password, database t_abc", dsn, as)
		}
	}
}

func TestDescribeHidesPassword(t *testing.T) {
	for _, s := range []string{"postgres://admin:s3cret@db.example:6543/postgres", "host=db.example port=6543 user=admin password=s3cret dbname=postgres"} {
		if got := Describe(s); got != `database "postgres" as user "admin" on db.example:6543` {
			t.Errorf("Describe(%q) = %q", s, got)
		}
	}
	if got := Describe("postgres://a:s3cret@h:notaport/db"); strings.Contains(got, "s3cret") {
		t.Errorf("Describe of a bad DSN = %q", got)
	}
}

// TestWithoutPassword keeps the password off pg_dump's command line.
func TestWithoutPassword(t *testing.T) {
	cases := map[string]string{
		"postgres://u:s3cret@h:5432/db?sslmode=require": "postgres://u@h:5432/db?sslmode=require",
		"postgresql://u@h/db?password=s3cret":           "postgresql://u@h/db",
		"host=h user=u password='s 3' dbname=db":        "host=h user=u  dbname=db",
		"host=h password=s3cret dbname=db":              "host=h  dbname=db",
	}
	for in, want := range cases {
		if got := WithoutPassword(in); got != want {
			t.Errorf("WithoutPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedact hides passwords of both DSN syntaxes anywhere in a text.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		`cannot parse "postgres://u:s3cret@h/db": bad`:      `cannot parse "postgres://u:xxxxx@h/db": bad`,
		"failed: host=h password=s3cret dbname=db":          "failed: host=h password=xxxxx dbname=db",
		"failed: host=h PASSWORD = 'a b\\'c' dbname=db":     "failed: host=h PASSWORD = xxxxx dbname=db",
		"no secret here: postgres://u@h/db?sslmode=disable": "no secret here: postgres://u@h/db?sslmode=disable",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	_, err := Parse("--dsn", "postgres://u:s3cret@h:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.HasPrefix(err.Error(), "--dsn: ") {
		t.Errorf("Parse of a bad DSN: %v", err)
	}
}

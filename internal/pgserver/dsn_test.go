package pgserver

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

func TestDescribeDSNHidesPassword(t *testing.T) {
	got := DescribeDSN("postgres://admin:s3cret@db.example:6543/postgres")
	if strings.Contains(got, "s3cret") || got != "admin@db.example:6543/postgres" {
		t.Errorf("DescribeDSN = %q", got)
	}
}

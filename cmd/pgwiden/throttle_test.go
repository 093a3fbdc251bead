package main

import (
	"strings"
	"testing"
)

// TestParseBytes: --max-wal-rate takes PostgreSQL's 1024-based units.
func TestParseBytes(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "65536": 65536, "50MB": 50 << 20, "1.5GB": 1.5 * (1 << 30), "512kB": 512 << 10, " 2 TB ": 2 << 40, "10B": 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"fast", "-1MB", "MB", "Inf", "NaN", "5 MiB"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %v, want an error", in, got)
		}
	}
}

// TestParseReplicas: NAME=DSN, names fit in reasons, passwords never
// reach the error.
func TestParseReplicas(t *testing.T) {
	rs, err := parseReplicas([]string{"replica-1=postgres://monitor@10.0.0.2/app", "r2=host=10.0.0.3 dbname=app user=monitor"})
	if err != nil || len(rs) != 2 || rs[0].name != "replica-1" || rs[1].cfg.ConnConfig.Host != "10.0.0.3" {
		t.Fatalf("parseReplicas = %+v, %v", rs, err)
	}
	for _, spec := range []string{"postgres://u:secret@h/db", "=postgres://h/db", "a b=postgres://h/db", "r="} {
		_, err := parseReplicas([]string{spec})
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("parseReplicas(%q) = %v: want an error without the password", spec, err)
		}
	}
	if _, err := parseReplicas([]string{"r=postgres://h/db", "r=postgres://g/db"}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a name given twice: %v", err)
	}
}

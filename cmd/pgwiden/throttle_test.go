package main

import (
	"strings"
	"testing"
)

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

package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/jackc/pgx/v5"
)

// QName is a schema-qualified object name, spelled exactly as in the catalog.
type QName struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
}

// Quoted returns the name quoted for SQL: "public"."Weird Table".
func (q QName) Quoted() string { return pgx.Identifier{q.Schema, q.Name}.Sanitize() }

// String returns schema.name unquoted, for messages and logs.
func (q QName) String() string { return q.Schema + "." + q.Name }

// Ident quotes one identifier (a column, constraint or index name).
func Ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// Idents quotes and joins identifiers with ", ".
func Idents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Ident(n)
	}
	return strings.Join(q, ", ")
}

// MaxIdentLen is PostgreSQL's NAMEDATALEN-1: longer names are silently
// truncated by the server, which could make two derived names collide.
const MaxIdentLen = 63

// Derive builds a name for one of pgwiden's own objects from a base name and
// a suffix, e.g. Derive("id", "_pgwiden_new"). When the result would exceed
// 63 bytes the base is cut (on a UTF-8 boundary) and a short hash of the full
// base is added, so distinct bases never collide after truncation.
func Derive(base, suffix string) string {
	if len(base)+len(suffix) <= MaxIdentLen {
		return base + suffix
	}
	sum := sha256.Sum256([]byte(base))
	hash := "_" + hex.EncodeToString(sum[:])[:8]
	keep := MaxIdentLen - len(suffix) - len(hash)
	cut := base[:keep]
	for len(cut) > 0 && !utf8Start(base, len(cut)) {
		cut = cut[:len(cut)-1]
	}
	return cut + hash + suffix
}

// utf8Start reports whether byte i of s starts a UTF-8 sequence.
func utf8Start(s string, i int) bool { return i >= len(s) || s[i]&0xC0 != 0x80 }

// Table returns the table named q, or nil.
func (s *Snapshot) Table(q QName) *Table {
	for i := range s.Tables {
		if s.Tables[i].Name == q {
			return &s.Tables[i]
		}
	}
	return nil
}

// Sequence returns the sequence named q, or nil.
func (s *Snapshot) Sequence(q QName) *Sequence {
	for i := range s.Sequences {
		if s.Sequences[i].Name == q {
			return &s.Sequences[i]
		}
	}
	return nil
}

// Column returns the column named name, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// HasSchema reports whether any table lives in schema.
func (s *Snapshot) HasSchema(schema string) bool {
	for _, t := range s.Tables {
		if t.Name.Schema == schema {
			return true
		}
	}
	return false
}

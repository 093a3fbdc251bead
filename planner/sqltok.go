package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// The cutover rebuilds indexes, checks and foreign keys on the new columns
// from the definitions PostgreSQL prints (pg_get_indexdef and friends). A
// textual replace of the column name would also hit string literals, casts
// and functions of the same name, so this file tokenizes the definition and
// renames only identifiers that stand for a column.

type tokKind int

const (
	tokSpace tokKind = iota
	tokIdent
	tokQuoted
	tokString
	tokOther
)

type token struct {
	kind tokKind
	text string
}

// value is the identifier a token names: quoted identifiers unescaped,
// plain ones folded to lower case as PostgreSQL does.
func (t token) value() string {
	switch t.kind {
	case tokQuoted:
		return strings.ReplaceAll(t.text[1:len(t.text)-1], `""`, `"`)
	case tokIdent:
		return strings.ToLower(t.text)
	}
	return ""
}

func (t token) isIdent() bool { return t.kind == tokIdent || t.kind == tokQuoted }

// tokenize splits SQL into tokens; joining their texts gives s back.
func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		j, kind, err := scan(s, i)
		if err != nil {
			return nil, err
		}
		out = append(out, token{kind, s[i:j]})
		i = j
	}
	return out, nil
}

// scan returns the end of the token starting at i.
func scan(s string, i int) (int, tokKind, error) {
	c := s[i]
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		j := i
		for j < len(s) && strings.IndexByte(" \t\n\r", s[j]) >= 0 {
			j++
		}
		return j, tokSpace, nil
	case c == '"':
		j, err := closeQuote(s, i, '"', false)
		return j, tokQuoted, err
	case c == '\'':
		j, err := closeQuote(s, i, '\'', false)
		return j, tokString, err
	case (c == 'E' || c == 'e') && i+1 < len(s) && s[i+1] == '\'':
		j, err := closeQuote(s, i+1, '\'', true)
		return j, tokString, err
	case isIdentStart(c):
		j := i + 1
		for j < len(s) && (isIdentStart(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '$') {
			j++
		}
		return j, tokIdent, nil
	case c == ':' && i+1 < len(s) && s[i+1] == ':':
		return i + 2, tokOther, nil
	case strings.HasPrefix(s[i:], "--"): // a comment is whitespace
		if n := strings.IndexByte(s[i:], '\n'); n >= 0 {
			return i + n + 1, tokSpace, nil
		}
		return len(s), tokSpace, nil
	case strings.HasPrefix(s[i:], "/*"):
		if n := strings.Index(s[i+2:], "*/"); n >= 0 {
			return i + 2 + n + 2, tokSpace, nil
		}
		return 0, tokSpace, fmt.Errorf("unterminated comment in %q", s)
	case c == '$':
		if tag := dollarTag(s[i:]); tag != "" {
			if n := strings.Index(s[i+len(tag):], tag); n >= 0 {
				return i + len(tag) + n + len(tag), tokString, nil
			}
			return 0, tokString, fmt.Errorf("unterminated %s in %q", tag, s)
		}
	}
	return i + 1, tokOther, nil
}

// dollarTag returns the $tag$ that opens a dollar-quoted string at the
// start of s, "" when s starts with a parameter such as $1 or a lone $.
// A $ inside an identifier never gets here: scan reads it with the
// identifier.
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1]
		case j == 1 && c >= '0' && c <= '9':
			return ""
		case !isIdentStart(c) && (c < '0' || c > '9'):
			return ""
		}
	}
	return ""
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// closeQuote finds the end of a quoted token opened at s[i]; a doubled quote
// is an escaped one, and so is a backslash escape in an E” string.
func closeQuote(s string, i int, q byte, backslash bool) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch {
		case backslash && s[j] == '\\':
			j++
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated %c in %q", q, s)
}

// renameColumns rewrites column identifiers in an expression: an
// identifier is a column unless it is a function name (followed by "("), a
// type in a cast (after "::"), a qualified name's part (next to ".") or the
// word after NULLS, USING or COLLATE. Index definitions go through
// renameIndexTail, which knows their structure.
func renameColumns(def string, rename map[string]string) (string, error) {
	toks, err := tokenize(def)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, t := range toks {
		to, ok := rename[t.value()]
		if t.isIdent() && ok && !isCallOrQualified(toks, i) {
			b.WriteString(catalog.Ident(to))
			continue
		}
		b.WriteString(t.text)
	}
	return b.String(), nil
}

func isCallOrQualified(toks []token, i int) bool {
	next, prev := neighbour(toks, i, 1), neighbour(toks, i, -1)
	return next == "(" || next == "." || prev == "::" || prev == "." || keywordBefore[strings.ToLower(prev)]
}

// keywordBefore lists the words after which PostgreSQL prints a keyword or
// a name that is not a column, unquoted when it is an unreserved keyword:
// NULLS FIRST/LAST, USING hash, COLLATE "C".
var keywordBefore = map[string]bool{"nulls": true, "using": true, "collate": true}

// neighbour returns the text of the nearest non-space token in direction d.
func neighbour(toks []token, i, d int) string {
	for j := i + d; j >= 0 && j < len(toks); j += d {
		if toks[j].kind != tokSpace {
			return toks[j].text
		}
	}
	return ""
}

// indexTail returns what follows the table name in a pg_get_indexdef
// result ("USING btree (id) WHERE ..."), and whether the index is unique.
func indexTail(def string) (tail string, unique bool, err error) {
	toks, err := tokenize(def)
	if err != nil {
		return "", false, err
	}
	off := 0
	for _, t := range toks {
		if t.kind == tokIdent && strings.EqualFold(t.text, "UNIQUE") {
			unique = true
		}
		if t.kind == tokIdent && strings.EqualFold(t.text, "USING") {
			return def[off:], unique, nil
		}
		off += len(t.text)
	}
	return "", false, fmt.Errorf("no USING clause in index definition %q", def)
}

// fkTail returns what follows the referenced column list of a foreign key
// definition: " ON DELETE CASCADE", " MATCH FULL", " DEFERRABLE" and so on.
func fkTail(def string) (string, error) {
	toks, err := tokenize(def)
	if err != nil {
		return "", err
	}
	off, seenRef, depth := 0, false, 0
	for _, t := range toks {
		off += len(t.text)
		switch {
		case t.kind == tokIdent && strings.EqualFold(t.text, "REFERENCES"):
			seenRef = true
		case seenRef && t.text == "(":
			depth++
		case seenRef && t.text == ")":
			depth--
			if depth == 0 {
				return strings.TrimSuffix(def[off:], " NOT VALID"), nil
			}
		}
	}
	return "", fmt.Errorf("cannot parse foreign key definition %q", def)
}

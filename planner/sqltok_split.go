package planner

import (
	"fmt"
	"strings"
)

// SplitStatements splits a step's SQL into its statements at the
// semicolons outside quotes, dollar-quoted bodies and comments, for a step
// run statement by statement (Step.EachStatement).
func SplitStatements(sql string) ([]string, error) {
	var out []string
	start := 0
	for i := 0; i < len(sql); {
		j, err := skipQuoted(sql, i)
		if err != nil {
			return nil, err
		}
		if j > i {
			i = j
			continue
		}
		if sql[i] == ';' {
			out = appendStatement(out, sql[start:i])
			start = i + 1
		}
		i++
	}
	return appendStatement(out, sql[start:]), nil
}

func appendStatement(out []string, s string) []string {
	if s = strings.TrimSpace(s); s != "" {
		out = append(out, s)
	}
	return out
}

// skipQuoted returns the end of the quoted text, dollar-quoted body or
// comment starting at i, or i when none starts there.
func skipQuoted(s string, i int) (int, error) {
	switch c := s[i]; {
	case c == '\'' || c == '"':
		return closeQuote(s, i, c, i > 0 && (s[i-1] == 'E' || s[i-1] == 'e') && c == '\'')
	case strings.HasPrefix(s[i:], "--"):
		if n := strings.IndexByte(s[i:], '\n'); n >= 0 {
			return i + n + 1, nil
		}
		return len(s), nil
	case strings.HasPrefix(s[i:], "/*"):
		if n := strings.Index(s[i+2:], "*/"); n >= 0 {
			return i + 2 + n + 2, nil
		}
		return 0, fmt.Errorf("unterminated comment in %q", s)
	case c == '$' && (i == 0 || !isIdentStart(s[i-1]) && (s[i-1] < '0' || s[i-1] > '9')):
		tag := dollarTag(s[i:])
		if tag == "" {
			return i, nil
		}
		if n := strings.Index(s[i+len(tag):], tag); n >= 0 {
			return i + len(tag) + n + len(tag), nil
		}
		return 0, fmt.Errorf("unterminated %s in %q", tag, s)
	}
	return i, nil
}

// dollarTag returns the $tag$ that s starts with, "" when s starts with a
// parameter such as $1 or a lone $.
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

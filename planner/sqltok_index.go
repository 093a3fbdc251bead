package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// renameIndexTail renames closure columns in what follows the table name
// of an index definition, "USING btree (last DESC NULLS LAST) INCLUDE
// (hash) WHERE (last > 0)", by its structure rather than by matching
// words: pg_get_indexdef prints unreserved keywords such as last, first or
// hash unquoted, as column names and as keywords alike. The access method
// and everything after a key column (operator class, COLLATE, ASC/DESC,
// NULLS FIRST/LAST) are never columns; a key or INCLUDE element that is a
// bare name is a column (the catalog's indkey says which); expressions in
// parentheses and the WHERE predicate are renamed as expressions.
func renameIndexTail(tail string, rename map[string]string) (string, error) {
	toks, err := tokenize(tail)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	i := 0
	emit := func(j int) { // copies toks[i:j] unchanged
		for ; i < j; i++ {
			b.WriteString(toks[i].text)
		}
	}
	for i < len(toks) {
		t := toks[i]
		switch {
		case t.text == "(" && (prevWord(toks, i, "using") || prevWord(toks, i, "include")):
			end, err := closeParen(toks, i)
			if err != nil {
				return "", fmt.Errorf("%w in %q", err, tail)
			}
			emit(i + 1)
			if err := renameElements(&b, toks[i:end], rename); err != nil {
				return "", err
			}
			i = end
		case t.kind == tokIdent && strings.EqualFold(t.text, "WHERE"):
			emit(i + 1)
			pred, err := renameColumns(joinTokens(toks[i:]), rename)
			if err != nil {
				return "", err
			}
			b.WriteString(pred)
			i = len(toks)
		default:
			emit(i + 1)
		}
	}
	return b.String(), nil
}

// renameElements renames the comma-separated elements of an index's key
// or INCLUDE list (toks holds the list without its parentheses).
func renameElements(b *strings.Builder, toks []token, rename map[string]string) error {
	start, depth := 0, 0
	for j := 0; j <= len(toks); j++ {
		if j < len(toks) {
			switch toks[j].text {
			case "(":
				depth++
				continue
			case ")":
				depth--
				continue
			case ",":
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if err := renameElement(b, toks[start:j], rename); err != nil {
			return err
		}
		if j < len(toks) {
			b.WriteString(toks[j].text)
		}
		start = j + 1
	}
	return nil
}

// renameElement renames one element: its leading column name, or the
// expression in its leading parentheses; the rest is kept as printed.
func renameElement(b *strings.Builder, toks []token, rename map[string]string) error {
	i := 0
	for i < len(toks) && toks[i].kind == tokSpace {
		b.WriteString(toks[i].text)
		i++
	}
	if i == len(toks) {
		return nil
	}
	head := toks[i]
	switch {
	case head.text == "(":
		end, err := closeParen(toks, i)
		if err != nil {
			return err
		}
		expr, err := renameColumns(joinTokens(toks[i:end+1]), rename)
		if err != nil {
			return err
		}
		b.WriteString(expr)
		i = end + 1
	case head.isIdent() && neighbour(toks, i, 1) != "(":
		if to, ok := rename[head.value()]; ok {
			b.WriteString(catalog.Ident(to))
		} else {
			b.WriteString(head.text)
		}
		i++
	default: // a function call: an expression without parentheses of its own
		expr, err := renameColumns(joinTokens(toks[i:]), rename)
		if err != nil {
			return err
		}
		b.WriteString(expr)
		return nil
	}
	b.WriteString(joinTokens(toks[i:]))
	return nil
}

// closeParen returns the index of the ")" that closes the "(" at toks[i].
func closeParen(toks []token, i int) (int, error) {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced parentheses")
}

// prevWord reports whether the nearest non-space token before i, or the
// one before the access method after USING, is the keyword word.
func prevWord(toks []token, i int, word string) bool {
	j := i - 1
	for j >= 0 && toks[j].kind == tokSpace {
		j--
	}
	if j < 0 {
		return false
	}
	if strings.EqualFold(toks[j].text, word) && toks[j].kind == tokIdent {
		return true
	}
	if word != "using" || !toks[j].isIdent() { // USING method (
		return false
	}
	k := j - 1
	for k >= 0 && toks[k].kind == tokSpace {
		k--
	}
	return k >= 0 && toks[k].kind == tokIdent && strings.EqualFold(toks[k].text, "using")
}

func joinTokens(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

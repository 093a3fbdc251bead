package planner

import (
	"fmt"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// statisticsParts splits a pg_get_statisticsobjdef result, "CREATE
// STATISTICS s.name (ndistinct) ON a, (b + 1) FROM s.t", into its kinds
// ("(ndistinct)", empty when the server omits them) and its column and
// expression list ("a, (b + 1)"). The ON and FROM keywords are found as
// tokens outside parentheses, so a column or expression that spells them
// cannot mislead it.
func statisticsParts(def string) (kinds, items string, err error) {
	toks, err := tokenize(def)
	if err != nil {
		return "", "", err
	}
	off, depth, on, from, kindsAt := 0, 0, -1, -1, -1
	for _, t := range toks {
		switch {
		case t.text == "(":
			if depth == 0 && on < 0 && kindsAt < 0 {
				kindsAt = off
			}
			depth++
		case t.text == ")":
			depth--
		case depth == 0 && t.kind == tokIdent && strings.EqualFold(t.text, "ON") && on < 0:
			on = off
		case depth == 0 && t.kind == tokIdent && strings.EqualFold(t.text, "FROM") && on >= 0:
			from = off
		}
		off += len(t.text)
	}
	if on < 0 || from < 0 {
		return "", "", fmt.Errorf("cannot parse statistics definition %q", def)
	}
	if kindsAt >= 0 {
		kinds = " " + strings.TrimSpace(def[kindsAt:on])
	}
	return kinds, strings.TrimSpace(def[on+len("ON") : from]), nil
}

// rebuildStatistics renders CREATE STATISTICS name for a copy of st on
// table t with its columns renamed.
func rebuildStatistics(t catalog.QName, st catalog.Statistics, name catalog.QName, rename map[string]string) (string, error) {
	kinds, items, err := statisticsParts(st.Def)
	if err == nil {
		items, err = renameColumns(items, rename)
	}
	if err != nil {
		return "", fmt.Errorf("statistics %s: %w", st.Name, err)
	}
	return "CREATE STATISTICS " + name.Quoted() + kinds + " ON " + items + " FROM " + t.Quoted(), nil
}

package planner

import "strings"

// SplitStatements splits a step's SQL into its statements at the
// semicolons outside quotes, dollar-quoted bodies and comments (tokenize),
// for a step run statement by statement (Step.EachStatement).
func SplitStatements(sql string) ([]string, error) {
	toks, err := tokenize(sql)
	if err != nil {
		return nil, err
	}
	var out []string
	var cur strings.Builder
	for _, t := range toks {
		if t.kind == tokOther && t.text == ";" {
			out = appendStatement(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(t.text)
	}
	return appendStatement(out, cur.String()), nil
}

func appendStatement(out []string, s string) []string {
	if s = strings.TrimSpace(s); s != "" {
		out = append(out, s)
	}
	return out
}

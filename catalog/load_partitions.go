package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
	"fmt"
	"slices"
	"strings"
)

var (
	//go:embed queries/inherits.sql
	inheritsSQL string
	//go:embed queries/partkeys.sql
	partkeysSQL string
)

// loadInherits links partitions to their parents and classic inheritance
// children to theirs. Either side may be outside the loaded schemas; the
// link is still recorded on the side that is loaded.
func (l *loader) loadInherits(ctx context.Context) error {
	type row struct {
		ChildOID     uint32 `db:"child_oid"`
		ChildSchema  string `db:"child_schema"`
		ChildName    string `db:"child_name"`
		ParentOID    uint32 `db:"parent_oid"`
		ParentSchema string `db:"parent_schema"`
		ParentName   string `db:"parent_name"`
		IsPartition  bool   `db:"is_partition"`
		SeqNo        int32  `db:"seqno"`
	}
	// Ordered by child and inhseqno, so InheritsFrom keeps the order of the
	// INHERITS clause, which decides the column order of the child.
	rows, err := collect[row](ctx, l.q, inheritsSQL, l.oids)
	if err != nil {
		return err
	}
	for _, r := range rows {
		child := QName{Schema: r.ChildSchema, Name: r.ChildName}
		parent := QName{Schema: r.ParentSchema, Name: r.ParentName}
		c, p := l.table(r.ChildOID), l.table(r.ParentOID)
		switch {
		case r.IsPartition:
			if c != nil {
				c.PartitionOf = &parent
			}
			if p != nil {
				p.Partitions = append(p.Partitions, child)
			}
		default:
			if c != nil {
				c.InheritsFrom = append(c.InheritsFrom, parent)
			}
			if p != nil {
				p.InheritedBy = append(p.InheritedBy, child)
			}
		}
	}
	return nil
}

// loadPartKeys reads the partition key of each partitioned table: a column
// name per key column, and the expression as pg_get_partkeydef prints it for
// an expression key.
func (l *loader) loadPartKeys(ctx context.Context) error {
	type row struct {
		OID     uint32   `db:"oid"`
		Def     string   `db:"def"`
		Columns []string `db:"columns"`
	}
	rows, err := collect[row](ctx, l.q, partkeysSQL, l.oids)
	if err != nil {
		return err
	}
	for _, r := range rows {
		t := l.table(r.OID)
		if t == nil {
			continue
		}
		key, err := partKey(r.Def, r.Columns)
		if err != nil {
			return fmt.Errorf("partition key of %s: %w", t.Name.Quoted(), err)
		}
		t.PartitionKey = key
	}
	return nil
}

// partKey fills the expression slots ("") of columns from def, e.g.
// "RANGE (created_at, lower(name))". pg_get_partkeydef has no per-key form,
// so def is split at its top-level commas.
func partKey(def string, columns []string) ([]string, error) {
	if !slices.Contains(columns, "") {
		return columns, nil
	}
	open := strings.IndexByte(def, '(')
	if open < 0 || !strings.HasSuffix(def, ")") {
		return nil, fmt.Errorf("unexpected pg_get_partkeydef output %q", def)
	}
	items := splitTopLevel(def[open+1 : len(def)-1])
	if len(items) != len(columns) {
		return nil, fmt.Errorf("pg_get_partkeydef output %q has %d keys, pg_partitioned_table %d", def, len(items), len(columns))
	}
	key := make([]string, len(columns))
	for i, c := range columns {
		key[i] = c
		if c == "" {
			key[i] = items[i]
		}
	}
	return key, nil
}

// splitTopLevel splits s at commas outside parentheses, 'literals' and
// "identifiers", and trims the spaces around each item. A doubled quote
// inside a literal or identifier toggles the state twice, which is right.
func splitTopLevel(s string) []string {
	var items []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '(' || ch == '[':
			depth++
		case ch == ')' || ch == ']':
			depth--
		case ch == ',' && depth == 0:
			items = append(items, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(items, strings.TrimSpace(s[start:]))
}

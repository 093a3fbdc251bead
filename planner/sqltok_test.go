package planner

import "testing"

// TestRenameIndexTail renames closure columns named like the keywords
// pg_get_indexdef prints next to them, unquoted (last, first and hash are
// unreserved keywords or no keyword at all; position is quoted). The
// definitions are as PostgreSQL 15 prints them.
func TestRenameIndexTail(t *testing.T) {
	rename := map[string]string{"last": "last_n", "first": "first_n", "hash": "hash_n", "position": "position_n", "include": "include_n"}
	for _, tc := range []struct{ name, def, want string }{
		{"desc nulls last",
			`CREATE INDEX i ON public.t USING btree (last DESC NULLS LAST)`,
			`USING btree ("last_n" DESC NULLS LAST)`},
		{"nulls first on another column",
			`CREATE INDEX i ON public.t USING btree (name NULLS FIRST, first)`,
			`USING btree (name NULLS FIRST, "first_n")`},
		{"hash method on a column named hash",
			`CREATE INDEX i ON public.t USING hash (hash)`,
			`USING hash ("hash_n")`},
		{"include and where",
			`CREATE INDEX i ON public.t USING btree (first) INCLUDE (last, hash) WHERE (last > 0)`,
			`USING btree ("first_n") INCLUDE ("last_n", "hash_n") WHERE ("last_n" > 0)`},
		{"a column named include",
			`CREATE INDEX i ON public.t USING btree (include) INCLUDE (name)`,
			`USING btree ("include_n") INCLUDE (name)`},
		{"quoted keyword column",
			`CREATE UNIQUE INDEX i ON public.t USING btree ("position", last) WHERE ("position" IS NOT NULL)`,
			`USING btree ("position_n", "last_n") WHERE ("position_n" IS NOT NULL)`},
		{"expression with ordering",
			`CREATE INDEX i ON public.t USING btree (((last + 1)) DESC NULLS LAST, lower(name))`,
			`USING btree ((("last_n" + 1)) DESC NULLS LAST, lower(name))`},
		{"function call element",
			`CREATE INDEX i ON public.t USING btree (abs(last), first)`,
			`USING btree (abs("last_n"), "first_n")`},
		{"operator class and collation",
			`CREATE INDEX i ON public.t USING btree (last int4_ops DESC, name COLLATE "C" text_pattern_ops)`,
			`USING btree ("last_n" int4_ops DESC, name COLLATE "C" text_pattern_ops)`},
		{"storage parameters",
			`CREATE INDEX i ON public.t USING btree (last) WITH (fillfactor='70', deduplicate_items=off) WHERE (first IS NOT NULL)`,
			`USING btree ("last_n") WITH (fillfactor='70', deduplicate_items=off) WHERE ("first_n" IS NOT NULL)`},
		{"string literal and cast named like a column",
			`CREATE INDEX i ON public.t USING btree (last) WHERE ((note <> 'last'::text) AND (first > '0'::integer))`,
			`USING btree ("last_n") WHERE ((note <> 'last'::text) AND ("first_n" > '0'::integer))`},
		{"nulls not distinct",
			`CREATE UNIQUE INDEX i ON public.t USING btree (last) NULLS NOT DISTINCT`,
			`USING btree ("last_n") NULLS NOT DISTINCT`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tail, _, err := indexTail(tc.def)
			if err == nil {
				tail, err = renameIndexTail(tail, rename)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tail != tc.want {
				t.Errorf("\n got: %s\nwant: %s", tail, tc.want)
			}
		})
	}
}

// TestRenameColumnsExpressions renames columns in check constraints and
// predicates, leaving keywords, functions, casts and literals alone.
func TestRenameColumnsExpressions(t *testing.T) {
	rename := map[string]string{"last": "last_n", "first": "first_n", "position": "position_n"}
	for _, tc := range []struct{ def, want string }{
		{`CHECK ((last > 0))`, `CHECK (("last_n" > 0))`},
		{`CHECK ((first <> last))`, `CHECK (("first_n" <> "last_n"))`},
		{`CHECK (("position" >= 0))`, `CHECK (("position_n" >= 0))`},
		{`CHECK ((POSITION(('a'::text) IN (note)) > last))`, `CHECK ((POSITION(('a'::text) IN (note)) > "last_n"))`},
		{`CHECK (((last)::text <> 'last'::text))`, `CHECK ((("last_n")::text <> 'last'::text))`},
		{`CHECK ((t.last IS NULL))`, `CHECK ((t.last IS NULL))`},
	} {
		got, err := renameColumns(tc.def, rename)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.def, got, tc.want)
		}
	}
}

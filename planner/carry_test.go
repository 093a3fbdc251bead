package planner

import (
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
)

// TestGrantStatementsOrder: a grant made by a role that holds the
// privilege WITH GRANT OPTION must come after the grant that gives it the
// option, whatever order the catalog lists them in (here by grantor name,
// "alice" before "owner"), and is made as that role; a chain (owner to
// alice to bob to PUBLIC) is followed to its end.
func TestGrantStatementsOrder(t *testing.T) {
	rel := &catalog.Table{Name: catalog.QName{Schema: "public", Name: "child"}, Owner: "owner"}
	got := grantStatements(rel, "parent_id", []catalog.ColumnGrant{
		{Privilege: "SELECT", Grantee: "bob", Grantor: "alice", AsGrantor: true},
		{Privilege: "UPDATE", Grantee: "", Grantor: "bob", AsGrantor: true},
		{Privilege: "SELECT", Grantee: "alice", Grantor: "owner", Grantable: true},
		{Privilege: "UPDATE", Grantee: "alice", Grantor: "owner", Grantable: true},
		{Privilege: "UPDATE", Grantee: "bob", Grantor: "alice", Grantable: true, AsGrantor: true},
	})
	var sqls []string
	for _, g := range got {
		sqls = append(sqls, g.sql)
	}
	want := []string{
		`GRANT SELECT ("parent_id"), UPDATE ("parent_id") ON TABLE "public"."child" TO "alice" WITH GRANT OPTION`,
		"SET LOCAL ROLE \"alice\";\nGRANT UPDATE (\"parent_id\") ON TABLE \"public\".\"child\" TO \"bob\" WITH GRANT OPTION;\nRESET ROLE",
		"SET LOCAL ROLE \"alice\";\nGRANT SELECT (\"parent_id\") ON TABLE \"public\".\"child\" TO \"bob\";\nRESET ROLE",
		"SET LOCAL ROLE \"bob\";\nGRANT UPDATE (\"parent_id\") ON TABLE \"public\".\"child\" TO PUBLIC;\nRESET ROLE",
	}
	if strings.Join(sqls, "\n--\n") != strings.Join(want, "\n--\n") {
		t.Errorf("grants:\n%s\nwant:\n%s", strings.Join(sqls, "\n--\n"), strings.Join(want, "\n--\n"))
	}
}

// TestCarryBlockers: a grant made by a role pgwiden cannot act as, and a
// publication it does not own whose column list names the key, block the
// plan, each naming the object and the fix.
func TestCarryBlockers(t *testing.T) {
	key := catalog.Column{Name: "id", Num: 1, Type: "integer", NotNull: true, Meta: &catalog.ColumnMeta{
		Grants: []catalog.ColumnGrant{{Privilege: "SELECT", Grantee: "bob", Grantor: "alice"}},
	}}
	snap := &catalog.Snapshot{ServerVersion: 150000, CurrentUser: "owner", Tables: []catalog.Table{{
		Name: catalog.QName{Schema: "public", Name: "t"}, Kind: "table", Owner: "owner", Owned: true,
		Columns:          []catalog.Column{key},
		Indexes:          []catalog.Index{{Name: "t_pkey", Def: "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)", Columns: []string{"id"}, Unique: true, Primary: true, Valid: true, Method: "btree", Constraint: "t_pkey"}},
		Constraints:      []catalog.Constraint{{Name: "t_pkey", Type: catalog.ConPrimary, Columns: []string{"id"}, Def: "PRIMARY KEY (id)", Validated: true, Index: "t_pkey"}},
		PublishedColumns: []catalog.PublishedTable{{Publication: "p", Columns: []string{"id"}, DependsOn: []string{"id"}}},
	}}}
	p, err := Build(snap, Target{Table: catalog.QName{Schema: "public", Name: "t"}, Column: "id"})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]Finding{}
	for _, f := range p.Blockers {
		codes[f.Code] = f
	}
	if f, ok := codes["column-grant-grantor"]; !ok || f.Object != "public.t.id" || !strings.Contains(f.Fix, `member of role "alice"`) {
		t.Errorf("no column-grant-grantor blocker naming public.t.id and the fix: %+v", p.Blockers)
	}
	if f, ok := codes["publication-owner"]; !ok || f.Object != "publication p" || f.Fix == "" {
		t.Errorf("no publication-owner blocker naming publication p: %+v", p.Blockers)
	}
}

// TestCarryColumnMetaQuoting: a comment and a security label are literals,
// the provider an identifier, and each is listed in the plan.
func TestCarryColumnMetaQuoting(t *testing.T) {
	b := &builder{plan: &Plan{}}
	rel := &catalog.Table{Name: catalog.QName{Schema: "Odd Schema", Name: `a "b"`}, Owner: "o"}
	var s stmts
	b.carryColumnMeta(&s, rel, "Id", &catalog.ColumnMeta{Comment: "it's", Labels: []catalog.SecurityLabel{{Provider: "selinux", Label: "system_u:object_r:sepgsql_table_t:s0'x"}}})
	want := "COMMENT ON COLUMN \"Odd Schema\".\"a \"\"b\"\"\".\"Id\" IS 'it''s';\n" +
		"SECURITY LABEL FOR \"selinux\" ON COLUMN \"Odd Schema\".\"a \"\"b\"\"\".\"Id\" IS 'system_u:object_r:sepgsql_table_t:s0''x'"
	if s.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", s.String(), want)
	}
	if len(b.plan.Carried) != 2 || b.plan.Carried[1].What != "security label of provider selinux" {
		t.Errorf("carried: %+v", b.plan.Carried)
	}
}

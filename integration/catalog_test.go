package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestCatalogLoad loads the tagging schema as a superuser and checks what a
// DBA would check before widening tags.id: every object that touches the
// key is found, with the names, columns and definitions the server has.
// Definitions are schema-qualified whatever the session's search_path
// (public.tags_id_seq, not tags_id_seq): pgwiden re-runs them in its own
// sessions, where an unqualified name could resolve to another object.
func TestCatalogLoad(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	loadFixtures(t, db, "tags.sql", "weird_names.sql", "publications.sql")
	if serverVersion(t, ctx, db) >= 150000 {
		loadFixtures(t, db, "publications_pg15.sql")
	}
	snap := mustLoad(t, ctx, db.Pool)

	t.Run("server", func(t *testing.T) {
		if snap.Database != db.Name || !snap.Superuser || snap.ServerVersion < 120000 || snap.CurrentUser == "" {
			t.Errorf("server info = %d %q %q superuser=%v", snap.ServerVersion, snap.Database, snap.CurrentUser, snap.Superuser)
		}
	})
	t.Run("tables", func(t *testing.T) {
		tags := mustTable(t, snap, pub("tags"))
		if tags.Kind != "table" || tags.Unlogged || !tags.Owned || tags.Owner != snap.CurrentUser || tags.ReplicaIdentity != "d" {
			t.Errorf("tags = %+v", *tags)
		}
		if tags.TotalBytes <= tags.TableBytes {
			t.Errorf("tags total %d bytes, heap %d: indexes not counted", tags.TotalBytes, tags.TableBytes)
		}
		if c := mustTable(t, snap, pub("tag_cache")); !c.Unlogged {
			t.Errorf("tag_cache not flagged unlogged")
		}
		taggings := mustTable(t, snap, pub("taggings"))
		if !taggings.RLSEnabled || taggings.ReplicaIdentity != "f" {
			t.Errorf("taggings rls=%v replica identity=%q", taggings.RLSEnabled, taggings.ReplicaIdentity)
		}
		equal(t, "taggings policies", taggings.Policies, []catalog.Policy{{Name: "taggings_tenant", Columns: []string{"tenant_id"},
			Def: "CREATE POLICY taggings_tenant ON public.taggings AS PERMISSIVE FOR ALL TO PUBLIC USING ((tenant_id = (current_setting('app.tenant'::text, true))::integer))"}})
		equal(t, "tags publications", tags.Publications, []string{"all_tables_pub", "tags_pub"})
		equal(t, "tenants publications", mustTable(t, snap, pub("tenants")).Publications, []string{"all_tables_pub"})
		if snap.ServerVersion >= 150000 {
			old := mustTable(t, snap, catalog.QName{Schema: "archive", Name: "old_tags"})
			equal(t, "archive.old_tags publications", old.Publications, []string{"all_tables_pub", "archive_pub"})
		}
	})
	t.Run("columns", func(t *testing.T) {
		tags := mustTable(t, snap, pub("tags"))
		equal(t, "tags.id", *mustColumn(t, tags, "id"), catalog.Column{
			Name: "id", Num: 1, Type: "integer", NotNull: true,
			Default:       "nextval('public.tags_id_seq'::regclass)",
			Sequence:      ptr(pub("tags_id_seq")),
			GeneratedDeps: []string{"slug"},
		})
		equal(t, "tags.slug", *mustColumn(t, tags, "slug"), catalog.Column{
			Name: "slug", Num: 4, Type: "text", Generated: "('tag-'::text || (id)::text)",
		})
		equal(t, "taggings.id", *mustColumn(t, mustTable(t, snap, pub("taggings")), "id"), catalog.Column{
			Name: "id", Num: 1, Type: "integer", NotNull: true, Identity: "d", Sequence: ptr(pub("taggings_id_seq")),
		})
		equal(t, "tagging_events.id", *mustColumn(t, mustTable(t, snap, pub("tagging_events")), "id"), catalog.Column{
			Name: "id", Num: 1, Type: "integer", NotNull: true,
			Default:  "nextval('public.tagging_events_id_seq'::regclass)",
			Sequence: ptr(pub("tagging_events_id_seq")),
		})
		notes := mustColumn(t, mustTable(t, snap, pub("tagging_event_notes")), "id")
		if notes.Type != "bigint" || notes.Identity != "a" || *notes.Sequence != pub("tagging_event_notes_id_seq") {
			t.Errorf("tagging_event_notes.id = %+v", *notes)
		}
	})
	t.Run("foreign keys", func(t *testing.T) {
		equal(t, "composite FK", *mustConstraint(t, mustTable(t, snap, pub("taggings")), "taggings_tag_fkey"), catalog.Constraint{
			Name: "taggings_tag_fkey", Type: catalog.ConForeign, Columns: []string{"tenant_id", "tag_id"},
			Def:       "FOREIGN KEY (tenant_id, tag_id) REFERENCES public.tags(tenant_id, id) ON DELETE CASCADE",
			Validated: true, RefTable: ptr(pub("tags")), RefColumns: []string{"tenant_id", "id"},
		})
		equal(t, "unique behind the composite FK", *mustConstraint(t, mustTable(t, snap, pub("tags")), "tags_tenant_id_id_key"), catalog.Constraint{
			Name: "tags_tenant_id_id_key", Type: catalog.ConUnique, Columns: []string{"tenant_id", "id"},
			Def: "UNIQUE (tenant_id, id)", Validated: true, Index: "tags_tenant_id_id_key",
		})
		chain := []struct{ table, fk, ref string }{
			{"tagging_events", "tagging_events_tagging_id_fkey", "taggings"},
			{"tagging_event_notes", "tagging_event_notes_event_id_fkey", "tagging_events"},
		}
		for _, c := range chain {
			fk := mustConstraint(t, mustTable(t, snap, pub(c.table)), c.fk)
			if *fk.RefTable != pub(c.ref) || !slices.Equal(fk.RefColumns, []string{"id"}) || fk.Inherited {
				t.Errorf("%s.%s = %+v", c.table, c.fk, *fk)
			}
		}
	})
	t.Run("partitions", func(t *testing.T) {
		hits := mustTable(t, snap, pub("tag_hits"))
		if hits.Kind != "partitioned" || hits.PartitionOf != nil {
			t.Errorf("tag_hits kind=%q partition_of=%v", hits.Kind, hits.PartitionOf)
		}
		equal(t, "tag_hits key", hits.PartitionKey, []string{"created_at"})
		equal(t, "tag_hits partitions", hits.Partitions, []catalog.QName{pub("tag_hits_2024"), pub("tag_hits_2025")})
		equal(t, "tag_daily key", mustTable(t, snap, pub("tag_daily")).PartitionKey, []string{"tag_id", "lower(label)"})
		if fk := mustConstraint(t, hits, "tag_hits_tag_id_fkey"); fk.Inherited || *fk.RefTable != pub("tags") {
			t.Errorf("parent FK = %+v", *fk)
		}
		if trg := mustTrigger(t, hits, "tag_hits_audit"); trg.Inherited {
			t.Errorf("parent trigger flagged inherited")
		}
		for _, name := range []string{"tag_hits_2024", "tag_hits_2025"} {
			p := mustTable(t, snap, pub(name))
			if p.Kind != "table" || p.PartitionOf == nil || *p.PartitionOf != pub("tag_hits") {
				t.Errorf("%s kind=%q partition_of=%v", name, p.Kind, p.PartitionOf)
			}
			fk := mustConstraint(t, p, "tag_hits_tag_id_fkey")
			if !fk.Inherited || *fk.RefTable != pub("tags") || !slices.Equal(fk.Columns, []string{"tag_id"}) {
				t.Errorf("%s FK = %+v", name, *fk)
			}
			if pk := mustConstraint(t, p, name+"_pkey"); !pk.Inherited || pk.Index != name+"_pkey" {
				t.Errorf("%s PK = %+v", name, *pk)
			}
			if ix := mustIndex(t, p, name+"_pkey"); ix.ParentIndex == nil || *ix.ParentIndex != pub("tag_hits_pkey") {
				t.Errorf("%s_pkey parent index = %v", name, ix.ParentIndex)
			}
			if trg := mustTrigger(t, p, "tag_hits_audit"); !trg.Inherited {
				t.Errorf("%s trigger not flagged inherited", name)
			}
		}
	})
	t.Run("inheritance", func(t *testing.T) {
		child, parent := mustTable(t, snap, pub("click_events")), mustTable(t, snap, pub("events"))
		equal(t, "click_events inherits from", child.InheritsFrom, []catalog.QName{pub("events")})
		equal(t, "events inherited by", parent.InheritedBy, []catalog.QName{pub("click_events")})
		if child.PartitionOf != nil || parent.Partitions != nil {
			t.Errorf("classic inheritance reported as partitioning")
		}
		if !mustConstraint(t, child, "events_tag_id_check").Inherited || mustConstraint(t, parent, "events_tag_id_check").Inherited {
			t.Errorf("inherited check constraint not flagged on the child only")
		}
	})
	t.Run("indexes", func(t *testing.T) {
		tags := mustTable(t, snap, pub("tags"))
		partial := *mustIndex(t, tags, "tags_live_name_key")
		if partial.Bytes <= 0 {
			t.Errorf("tags_live_name_key has %d bytes", partial.Bytes)
		}
		partial.Bytes = 0
		equal(t, "partial unique index", partial, catalog.Index{
			Name:    "tags_live_name_key",
			Def:     "CREATE UNIQUE INDEX tags_live_name_key ON public.tags USING btree (tenant_id, name) WHERE (deleted_at IS NULL)",
			Columns: []string{"tenant_id", "name"}, ExprColumns: []string{"deleted_at"},
			Unique: true, Predicate: "(deleted_at IS NULL)", Valid: true, Method: "btree",
		})
		expr := mustIndex(t, tags, "tags_lower_name_idx")
		equal(t, "expression index columns", expr.Columns, []string{"", "id"})
		equal(t, "expression index expr columns", expr.ExprColumns, []string{"name"})
		pk := mustIndex(t, tags, "tags_pkey")
		if !pk.Primary || !pk.Unique || pk.Constraint != "tags_pkey" || pk.ExprColumns != nil {
			t.Errorf("tags_pkey = %+v", *pk)
		}
		incl := mustIndex(t, mustTable(t, snap, pub("taggings")), "taggings_tag_id_idx")
		equal(t, "INCLUDE index key", incl.Columns, []string{"tag_id"})
		equal(t, "INCLUDE index include", incl.Include, []string{"tenant_id"})
	})
	t.Run("triggers", func(t *testing.T) {
		tags := mustTable(t, snap, pub("tags"))
		// tags also carries the internal triggers of three foreign keys.
		if len(tags.Triggers) != 2 {
			t.Fatalf("tags triggers = %+v, want tags_id_guard and tags_touch only", tags.Triggers)
		}
		equal(t, "updated_at trigger", *mustTrigger(t, tags, "tags_touch"), catalog.Trigger{
			Name:           "tags_touch",
			Def:            "CREATE TRIGGER tags_touch BEFORE UPDATE ON public.tags FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at()",
			Function:       pub("touch_updated_at"),
			Enabled:        "O",
			FunctionConfig: []string{"search_path=pg_catalog"},
		})
		equal(t, "UPDATE OF / WHEN columns", mustTrigger(t, tags, "tags_id_guard").Columns, []string{"id", "tenant_id"})
	})
	t.Run("sequences", func(t *testing.T) {
		equal(t, "serial", *mustSequence(t, snap, pub("tags_id_seq")), catalog.Sequence{
			Name: pub("tags_id_seq"), DataType: "integer", Min: 1, Max: math.MaxInt32, Increment: 1, Start: 1, Cache: 1,
			OwnedBy: &catalog.ColumnRef{Table: pub("tags"), Column: "id"},
		})
		equal(t, "identity", *mustSequence(t, snap, pub("taggings_id_seq")), catalog.Sequence{
			Name: pub("taggings_id_seq"), DataType: "integer", Min: 1, Max: math.MaxInt32, Increment: 1, Start: 1, Cache: 1,
			OwnedBy: &catalog.ColumnRef{Table: pub("taggings"), Column: "id"}, Identity: true,
		})
		equal(t, "bigint sequence feeding an integer", *mustSequence(t, snap, pub("tagging_events_id_seq")), catalog.Sequence{
			Name: pub("tagging_events_id_seq"), DataType: "bigint", Min: 1, Max: math.MaxInt64, Increment: 1, Start: 1, Cache: 1,
			LastValue: ptr(int64(3)), OwnedBy: &catalog.ColumnRef{Table: pub("tagging_events"), Column: "id"},
		})
	})
	t.Run("views and rules", func(t *testing.T) {
		col := func(table, column string) catalog.ColumnRef {
			return catalog.ColumnRef{Table: pub(table), Column: column}
		}
		v := mustView(t, snap, pub("tag_names"))
		if v.Kind != "view" || !strings.Contains(v.Definition, "FROM public.tags") || v.RuleTable != nil {
			t.Errorf("tag_names = %+v", *v)
		}
		equal(t, "tag_names depends on", v.DependsOn, []catalog.ColumnRef{col("tags", "id"), col("tags", "name")})
		equal(t, "view on the view depends on", mustView(t, snap, pub("tag_names_upper")).DependsOn,
			[]catalog.ColumnRef{col("tag_names", "id"), col("tag_names", "name")})
		mv := mustView(t, snap, pub("tag_usage"))
		if mv.Kind != "materialized view" || !slices.Contains(mv.DependsOn, col("tags", "id")) || !slices.Contains(mv.DependsOn, col("taggings", "tag_id")) {
			t.Errorf("tag_usage = %+v", *mv)
		}
		rule := mustView(t, snap, pub("tags_log_delete"))
		if rule.Kind != "rule" || rule.RuleTable == nil || *rule.RuleTable != pub("tags") ||
			!strings.HasPrefix(rule.Definition, "CREATE RULE tags_log_delete AS") || !slices.Contains(rule.DependsOn, col("tags", "id")) {
			t.Errorf("tags_log_delete = %+v", *rule)
		}
		for _, v := range snap.Views {
			for _, d := range v.DependsOn {
				if v.Kind != "rule" && d.Table == v.Name {
					t.Errorf("view %s depends on itself: %+v", v.Name, d)
				}
			}
		}
	})
	t.Run("quoted names", func(t *testing.T) {
		ws := func(name string) catalog.QName { return catalog.QName{Schema: "Weird Schema", Name: name} }
		wt := mustTable(t, snap, ws("Weird Table"))
		if c := mustColumn(t, wt, "Id"); c.Sequence == nil || *c.Sequence != ws("Weird Table_Id_seq") {
			t.Errorf(`"Weird Table"."Id" sequence = %v`, c.Sequence)
		}
		quoted := mustTable(t, snap, ws(`Weird "Quoted" Table`))
		if got := quoted.Name.Quoted(); got != `"Weird Schema"."Weird ""Quoted"" Table"` {
			t.Errorf("Quoted() = %s", got)
		}
		equal(t, "weird unique", mustConstraint(t, quoted, `Weird, "Key"`).Columns, []string{"a,b", "Weird Id"})
		fk := mustConstraint(t, quoted, `Weird "Quoted" Table_Weird Id_fkey`)
		if *fk.RefTable != ws("Weird Table") || !slices.Equal(fk.RefColumns, []string{"Id"}) {
			t.Errorf("weird FK = %+v", *fk)
		}
		equal(t, "weird view", mustView(t, snap, ws("Weird View")).DependsOn,
			[]catalog.ColumnRef{{Table: ws("Weird Table"), Column: "Id"}})
	})
}

// TestCatalogSchemas checks the schema filter: the default skips pgwiden's
// own state schema, a list loads only its schemas, and a schema that does
// not exist is an error rather than an empty, harmless-looking result.
func TestCatalogSchemas(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	loadFixtures(t, db, "tags.sql", "weird_names.sql")
	db.Exec(t, `CREATE SCHEMA pgwiden; CREATE TABLE pgwiden.jobs (id integer PRIMARY KEY);`)

	all := mustLoad(t, ctx, db.Pool)
	if all.HasSchema("pgwiden") || !all.HasSchema("public") || !all.HasSchema("Weird Schema") {
		t.Errorf("default schemas wrong: pgwiden=%v public=%v weird=%v",
			all.HasSchema("pgwiden"), all.HasSchema("public"), all.HasSchema("Weird Schema"))
	}
	weird := mustLoad(t, ctx, db.Pool, "Weird Schema")
	if len(weird.Tables) != 2 || weird.HasSchema("public") {
		t.Errorf("tables of Weird Schema = %+v", weird.Tables)
	}
	if len(weird.Views) != 1 || len(weird.Sequences) != 1 {
		t.Errorf("Weird Schema views %+v, sequences %+v", weird.Views, weird.Sequences)
	}
	_, err := catalog.Load(ctx, db.Pool, []string{"public", "no_such_schema"})
	if err == nil || !strings.Contains(err.Error(), `"no_such_schema" does not exist`) {
		t.Errorf("missing schema: err = %v", err)
	}
}

// TestCatalogReadsNoTable proves that Load is catalog-only and read-only:
// run in a READ ONLY transaction, it does not move the scan counters of any
// user table. pg_stat_xact_user_tables also holds counts this backend has
// not flushed yet, and it is not flushed inside a transaction, so the test
// compares the counters before and after Load within one transaction.
func TestCatalogReadsNoTable(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	loadFixtures(t, db, "tags.sql")
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	scans := func() int64 {
		t.Helper()
		var n int64
		err := tx.QueryRow(ctx, `SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::bigint
			FROM pg_stat_xact_user_tables`).Scan(&n)
		if err != nil {
			t.Fatalf("read scan counters: %v", err)
		}
		return n
	}
	before := scans()
	mustLoad(t, ctx, tx)
	if n := scans() - before; n != 0 {
		t.Errorf("Load scanned user tables %d times, want 0", n)
	}
	// The counters do see a real scan, so the zero above means something.
	before = scans()
	if _, err := tx.Exec(ctx, `SELECT count(*) FROM tenants`); err != nil {
		t.Fatalf("scan tenants: %v", err)
	}
	if n := scans() - before; n != 1 {
		t.Errorf("one query counted %d scans, want 1", n)
	}
}

// TestCatalogPrivileges loads the schema as the non-superuser who owns it
// (a table owner on a managed service), as members of that role, and as a
// role with no privilege at all.
func TestCatalogPrivileges(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	owner, member, noinherit, outsider := db.Name+"_owner", db.Name+"_member", db.Name+"_noinherit", db.Name+"_outsider"
	createRoles(t, db, []string{owner, member, noinherit, outsider},
		`GRANT CREATE ON SCHEMA public TO {owner};
		 GRANT CREATE ON DATABASE {db} TO {owner};
		 GRANT {owner} TO {member};
		 ALTER ROLE {noinherit} NOINHERIT;
		 GRANT {owner} TO {noinherit};`,
		map[string]string{"{owner}": owner, "{member}": member, "{noinherit}": noinherit, "{db}": db.Name})
	db.Exec(t, "SET ROLE "+pgx.Identifier{owner}.Sanitize()+";\n"+readFixture(t, "tags.sql")+"\nRESET ROLE;")
	db.Exec(t, `CREATE TABLE admin_only (id integer PRIMARY KEY)`)

	for _, c := range []struct {
		role          string
		ownsTags      bool
		seesLastValue bool
	}{
		{owner, true, true},
		{member, true, true},
		{noinherit, false, false},
		{outsider, false, false},
	} {
		t.Run(c.role[len(db.Name)+1:], func(t *testing.T) {
			conn, err := pgx.Connect(ctx, db.DSNAs(c.role))
			if err != nil {
				t.Fatalf("connect as %s: %v", c.role, err)
			}
			defer func() { _ = conn.Close(context.Background()) }()
			snap := mustLoad(t, ctx, conn)
			if snap.Superuser || snap.CurrentUser != c.role {
				t.Errorf("loaded as %q superuser=%v", snap.CurrentUser, snap.Superuser)
			}
			if tags := mustTable(t, snap, pub("tags")); tags.Owned != c.ownsTags || tags.Owner != owner {
				t.Errorf("tags owner %q owned=%v, want owned=%v", tags.Owner, tags.Owned, c.ownsTags)
			}
			if mustTable(t, snap, pub("admin_only")).Owned {
				t.Errorf("admin_only, owned by the superuser, reported as owned")
			}
			seq := mustSequence(t, snap, pub("tagging_events_id_seq"))
			if got := seq.LastValue != nil; got != c.seesLastValue || (got && *seq.LastValue != 3) {
				t.Errorf("last_value = %v, want visible=%v", seq.LastValue, c.seesLastValue)
			}
			// Everything else must load whatever the privileges.
			if len(snap.Views) != 4 || len(mustTable(t, snap, pub("tags")).Triggers) != 2 {
				t.Errorf("views %d, tags triggers %d", len(snap.Views), len(mustTable(t, snap, pub("tags")).Triggers))
			}
		})
	}
}

// TestCatalogJSONRoundTrip checks that a snapshot survives JSON unchanged
// (so a --dump-catalog file is a faithful fixture) and that two loads of an
// unchanged database give identical bytes.
func TestCatalogJSONRoundTrip(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	loadFixtures(t, db, "tags.sql", "weird_names.sql")
	snap := mustLoad(t, ctx, db.Pool)
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back catalog.Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if !reflect.DeepEqual(*snap, back) {
		t.Errorf("snapshot changed through JSON:\n got %+v\nwant %+v", back, *snap)
	}
	again, err := json.Marshal(mustLoad(t, ctx, db.Pool))
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if !bytes.Equal(b, again) {
		t.Errorf("two loads differ:\n%s\n%s", b, again)
	}
}

// loadFixtures runs files from testdata/schemas on db, in order.
func loadFixtures(t *testing.T, db *pgtest.DB, files ...string) {
	t.Helper()
	for _, f := range files {
		db.ExecFile(t, filepath.Join("testdata", "schemas", f))
	}
}

// readFixture returns the text of a file in testdata/schemas.
func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "schemas", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return string(b)
}

// createRoles creates LOGIN roles, runs setup with {placeholders} replaced
// by quoted identifiers, and drops the roles again before the database is
// dropped: roles are cluster-wide and would outlive the test.
func createRoles(t *testing.T, db *pgtest.DB, roles []string, setup string, names map[string]string) {
	t.Helper()
	var sql strings.Builder
	for _, r := range roles {
		sql.WriteString("CREATE ROLE " + pgx.Identifier{r}.Sanitize() + " LOGIN;\n")
	}
	for k, v := range names {
		setup = strings.ReplaceAll(setup, k, pgx.Identifier{v}.Sanitize())
	}
	// Registered after NewDB's cleanups, so it runs before the drop.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, r := range roles {
			id := pgx.Identifier{r}.Sanitize()
			if _, err := db.Pool.Exec(ctx, "DROP OWNED BY "+id+" CASCADE"); err != nil {
				t.Errorf("drop objects of role %s: %v", r, err)
			}
			if _, err := db.Pool.Exec(ctx, "DROP ROLE "+id); err != nil {
				t.Errorf("drop role %s: %v", r, err)
			}
		}
	})
	db.Exec(t, sql.String()+setup)
}

// serverVersion returns server_version_num.
func serverVersion(t *testing.T, ctx context.Context, db *pgtest.DB) int {
	t.Helper()
	var v int
	if err := db.Pool.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil {
		t.Fatalf("server version: %v", err)
	}
	return v
}

// mustLoad runs catalog.Load and fails the test on error.
func mustLoad(t *testing.T, ctx context.Context, q catalog.Querier, schemas ...string) *catalog.Snapshot {
	t.Helper()
	snap, err := catalog.Load(ctx, q, schemas)
	if err != nil {
		t.Fatalf("catalog.Load: %v", err)
	}
	return snap
}

func pub(name string) catalog.QName { return catalog.QName{Schema: "public", Name: name} }

func ptr[T any](v T) *T { return &v }

// equal reports a difference between got and want, naming what was compared.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// find returns the element of items called name, or fails the test.
func find[T any](t *testing.T, kind string, items []T, name string, nameOf func(T) string) *T {
	t.Helper()
	for i := range items {
		if nameOf(items[i]) == name {
			return &items[i]
		}
	}
	t.Fatalf("%s %q not found", kind, name)
	return nil
}

func mustTable(t *testing.T, s *catalog.Snapshot, q catalog.QName) *catalog.Table {
	t.Helper()
	return find(t, "table", s.Tables, q.String(), func(x catalog.Table) string { return x.Name.String() })
}

func mustSequence(t *testing.T, s *catalog.Snapshot, q catalog.QName) *catalog.Sequence {
	t.Helper()
	return find(t, "sequence", s.Sequences, q.String(), func(x catalog.Sequence) string { return x.Name.String() })
}

func mustView(t *testing.T, s *catalog.Snapshot, q catalog.QName) *catalog.View {
	t.Helper()
	return find(t, "view", s.Views, q.String(), func(x catalog.View) string { return x.Name.String() })
}

func mustColumn(t *testing.T, tb *catalog.Table, name string) *catalog.Column {
	t.Helper()
	return find(t, "column of "+tb.Name.String(), tb.Columns, name, func(x catalog.Column) string { return x.Name })
}

func mustConstraint(t *testing.T, tb *catalog.Table, name string) *catalog.Constraint {
	t.Helper()
	return find(t, "constraint of "+tb.Name.String(), tb.Constraints, name, func(x catalog.Constraint) string { return x.Name })
}

func mustIndex(t *testing.T, tb *catalog.Table, name string) *catalog.Index {
	t.Helper()
	return find(t, "index of "+tb.Name.String(), tb.Indexes, name, func(x catalog.Index) string { return x.Name })
}

func mustTrigger(t *testing.T, tb *catalog.Table, name string) *catalog.Trigger {
	t.Helper()
	return find(t, "trigger of "+tb.Name.String(), tb.Triggers, name, func(x catalog.Trigger) string { return x.Name })
}

package audit

import (
	"math"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
)

func qn(name string) catalog.QName { return catalog.QName{Schema: "public", Name: name} }

func ptr[T any](v T) *T { return &v }

func pkIndex(table, col string) catalog.Index {
	return catalog.Index{Name: table + "_pkey", Columns: []string{col}, Unique: true, Primary: true, Valid: true, Method: "btree"}
}

func pk(table, col string) catalog.Constraint {
	return catalog.Constraint{Name: table + "_pkey", Type: catalog.ConPrimary, Columns: []string{col}, Index: table + "_pkey"}
}

func fk(col, refTable, refCol string) catalog.Constraint {
	return catalog.Constraint{Name: col + "_fkey", Type: catalog.ConForeign, Columns: []string{col}, RefTable: ptr(qn(refTable)), RefColumns: []string{refCol}}
}

// testSnapshot is a small database with one object of each kind.
func testSnapshot() *catalog.Snapshot {
	return &catalog.Snapshot{
		Tables: []catalog.Table{
			{Name: qn("tags"), Columns: []catalog.Column{{Name: "id", Type: "integer", Sequence: ptr(qn("tags_id_seq"))}, {Name: "n", Type: "integer"}},
				Constraints: []catalog.Constraint{pk("tags", "id")}, Indexes: []catalog.Index{pkIndex("tags", "id")}},
			{Name: qn("post_tags"), Columns: []catalog.Column{{Name: "post_id", Type: "bigint"}, {Name: "tag_id", Type: "integer"}},
				Constraints: []catalog.Constraint{fk("tag_id", "tags", "id")}},
			{Name: qn("events"), Columns: []catalog.Column{{Name: "id", Type: "integer", Sequence: ptr(qn("events_id_seq"))}}},
			{Name: qn("big"), Columns: []catalog.Column{{Name: "id", Type: "bigint", Sequence: ptr(qn("big_id_seq"))}},
				Constraints: []catalog.Constraint{pk("big", "id")}, Indexes: []catalog.Index{pkIndex("big", "id")}},
			{Name: qn("accounts"), Columns: []catalog.Column{{Name: "id", Type: "bigint"}},
				Constraints: []catalog.Constraint{pk("accounts", "id")}, Indexes: []catalog.Index{pkIndex("accounts", "id")}},
			{Name: qn("logins"), Columns: []catalog.Column{{Name: "account_id", Type: "integer"}},
				Constraints: []catalog.Constraint{fk("account_id", "accounts", "id")}},
			{Name: qn("flags"), Columns: []catalog.Column{{Name: "id", Type: "smallint", Identity: "a", Sequence: ptr(qn("flags_id_seq"))}}},
			{Name: qn("codes"), Columns: []catalog.Column{{Name: "code", Type: "integer"}, {Name: "alt", Type: "integer"}},
				Constraints: []catalog.Constraint{{Name: "codes_code_key", Type: catalog.ConUnique, Columns: []string{"code"}}},
				Indexes: []catalog.Index{
					{Name: "codes_code_key", Columns: []string{"code"}, Unique: true, Valid: true, Method: "btree"},
					{Name: "codes_alt_key", Columns: []string{"alt"}, Unique: true, Valid: true, Method: "btree", Predicate: "(alt > 0)"},
				}},
			{Name: qn("codes_p1"), PartitionOf: ptr(qn("codes")), Columns: []catalog.Column{{Name: "code", Type: "integer"}},
				Constraints: []catalog.Constraint{{Name: "p1_key", Type: catalog.ConUnique, Columns: []string{"code"}}}},
			{Name: catalog.QName{Schema: "pgwiden", Name: "jobs"}, Columns: []catalog.Column{{Name: "id", Type: "integer", Sequence: ptr(catalog.QName{Schema: "pgwiden", Name: "jobs_id_seq"})}}},
		},
		Sequences: []catalog.Sequence{
			{Name: qn("tags_id_seq"), DataType: "integer", Min: 1, Max: math.MaxInt32, Increment: 1},
			{Name: qn("events_id_seq"), DataType: "bigint", Min: 1, Max: math.MaxInt64, Increment: 1},
			{Name: qn("big_id_seq"), DataType: "integer", Min: 1, Max: math.MaxInt32, Increment: 1},
			{Name: qn("flags_id_seq"), DataType: "smallint", Min: 1, Max: math.MaxInt16, Increment: 1, Identity: true},
			{Name: qn("counter"), DataType: "bigint", Min: 1, Max: 1_000_000, Increment: 1},
			{Name: qn("healthy_seq"), DataType: "bigint", Min: 1, Max: math.MaxInt64, Increment: 1},
			{Name: qn("down_seq"), DataType: "integer", Min: math.MinInt32, Max: -1, Increment: -1},
		},
	}
}

func byObject(cs []Candidate) map[string]Candidate {
	m := map[string]Candidate{}
	for _, c := range cs {
		m[c.Object] = c
	}
	return m
}

func TestCandidates(t *testing.T) {
	got := byObject(Candidates(testSnapshot()))
	seq := func(n string) Source { return Source{Sequence: ptr(qn(n))} }
	idx := func(table, col string) Source { return Source{Table: ptr(qn(table)), Column: col} }
	want := map[string]struct {
		kind  string
		limit int64
		src   Source
	}{
		"public.tags.id":           {KindColumn, math.MaxInt32, seq("tags_id_seq")},
		"public.post_tags.tag_id":  {KindColumn, math.MaxInt32, seq("tags_id_seq")},   // parent's sequence paces the child
		"public.events.id":         {KindColumn, math.MaxInt32, seq("events_id_seq")}, // bigint sequence, int4 column
		"public.big_id_seq":        {KindSequence, math.MaxInt32, seq("big_id_seq")},  // int4 sequence, bigint column
		"public.logins.account_id": {KindFKToWiderKey, math.MaxInt32, idx("accounts", "id")},
		"public.flags.id":          {KindColumn, math.MaxInt16, seq("flags_id_seq")},
		"public.codes.code":        {KindColumn, math.MaxInt32, idx("codes", "code")},
		"public.codes.alt":         {KindColumn, math.MaxInt32, Source{}}, // partial index only
		"public.counter":           {KindSequence, 1_000_000, seq("counter")},
		"public.down_seq":          {KindSequence, math.MinInt32, seq("down_seq")},
	}
	for obj, w := range want {
		c, ok := got[obj]
		if !ok {
			t.Errorf("%s: missing", obj)
			continue
		}
		if c.Kind != w.kind || c.Limit != w.limit || sourceKey(c.Source) != sourceKey(w.src) {
			t.Errorf("%s: got kind %s limit %d source %q, want %s %d %q", obj, c.Kind, c.Limit, sourceKey(c.Source), w.kind, w.limit, sourceKey(w.src))
		}
	}
	for obj := range got {
		if _, ok := want[obj]; !ok {
			t.Errorf("unexpected candidate %s", obj)
		}
	}
	if n := got["public.codes.alt"].Note; n != "unknown (no index)" {
		t.Errorf("codes.alt note = %q", n)
	}
	if n := got["public.big_id_seq"].Note; n != "feeds public.big.id (bigint)" {
		t.Errorf("big_id_seq note = %q", n)
	}
	if !got["public.post_tags.tag_id"].ViaRef || got["public.tags.id"].ViaRef {
		t.Error("post_tags.tag_id reads its parent's value, tags.id its own")
	}
	if s := got["public.tags.id"].Sequence; s == nil || *s != qn("tags_id_seq") {
		t.Errorf("tags.id sequence = %v", s)
	}
}

func TestCandidatesSequenceLimits(t *testing.T) {
	snap := &catalog.Snapshot{
		Tables: []catalog.Table{
			{Name: qn("a"), Columns: []catalog.Column{{Name: "id", Type: "integer", Sequence: ptr(qn("a_seq"))}}},
			{Name: qn("b"), Columns: []catalog.Column{{Name: "id", Type: "integer", Sequence: ptr(qn("b_seq"))}}},
			{Name: qn("c"), Columns: []catalog.Column{{Name: "id", Type: "smallint", Sequence: ptr(qn("c_seq"))}}},
		},
		Sequences: []catalog.Sequence{
			{Name: qn("a_seq"), DataType: "bigint", Min: 1, Max: 1000, Increment: 1},            // sequence stops first
			{Name: qn("b_seq"), DataType: "bigint", Min: math.MinInt64, Max: -1, Increment: -1}, // counts down to int4 min
			{Name: qn("c_seq"), DataType: "integer", Min: -40000, Max: -1, Increment: -1},       // smallint min first
		},
	}
	got := byObject(Candidates(snap))
	for obj, want := range map[string]int64{"public.a.id": 1000, "public.b.id": math.MinInt32, "public.c.id": math.MinInt16} {
		if got[obj].Limit != want {
			t.Errorf("%s limit = %d, want %d", obj, got[obj].Limit, want)
		}
	}
	if len(got) != 3 {
		t.Errorf("sequences feeding reported columns must not be reported again: %v", got)
	}
}

func TestCandidatesFKChainAndNoIndex(t *testing.T) {
	snap := &catalog.Snapshot{Tables: []catalog.Table{
		// root has a PK without a sequence; mid's key is also an FK to root.
		{Name: qn("root"), Columns: []catalog.Column{{Name: "id", Type: "integer"}},
			Constraints: []catalog.Constraint{pk("root", "id")}, Indexes: []catalog.Index{pkIndex("root", "id")}},
		{Name: qn("mid"), Columns: []catalog.Column{{Name: "id", Type: "integer"}},
			Constraints: []catalog.Constraint{{Name: "mid_key", Type: catalog.ConUnique, Columns: []string{"id"}}, fk("id", "root", "id")}},
		{Name: qn("leaf"), Columns: []catalog.Column{{Name: "mid_id", Type: "integer"}}, Constraints: []catalog.Constraint{fk("mid_id", "mid", "id")}},
		{Name: qn("orphan"), Columns: []catalog.Column{{Name: "x", Type: "integer"}}, Constraints: []catalog.Constraint{fk("x", "nowhere", "id")}},
		{Name: qn("plain"), Columns: []catalog.Column{{Name: "n", Type: "integer"}}, Indexes: []catalog.Index{{Name: "plain_n", Columns: []string{"n"}, Valid: true, Method: "btree"}}},
	}}
	got := byObject(Candidates(snap))
	want := sourceKey(Source{Table: ptr(qn("root")), Column: "id"})
	if k := sourceKey(got["public.leaf.mid_id"].Source); k != want {
		t.Errorf("leaf.mid_id source = %q, want %q (through mid to root)", k, want)
	}
	if c := got["public.orphan.x"]; c.Source != (Source{}) || c.Note != "unknown (no index)" {
		t.Errorf("orphan.x = %+v", c)
	}
	if _, ok := got["public.plain.n"]; ok {
		t.Error("a plain indexed column that is no key and has no sequence is no candidate")
	}
}

func TestCandidatesRunway(t *testing.T) {
	snap := &catalog.Snapshot{
		Tables: []catalog.Table{
			{Name: qn("orders"), Columns: []catalog.Column{{Name: "id", Type: "integer", Sequence: ptr(qn("orders_id_seq"))}}},
		},
		Sequences: []catalog.Sequence{
			{Name: qn("orders_id_seq"), DataType: "bigint", Min: math.MinInt64, Max: -1, Increment: 1}, // after prepare's AS bigint
			{Name: qn("lone_seq"), DataType: "integer", Min: math.MinInt32, Max: -1, Increment: 1},
			{Name: qn("down_seq"), DataType: "integer", Min: math.MinInt32, Max: -1, Increment: -1}, // counts down: no runway
		},
	}
	got := byObject(Candidates(snap))
	if c := got["public.orders.id"]; c.Runway == nil || c.Limit != -1 {
		t.Errorf("orders.id = %+v, want on a runway up to -1", c)
	}
	if c := got["public.lone_seq"]; c.Runway == nil || c.Limit != -1 {
		t.Errorf("lone_seq = %+v, want on a runway up to -1", c)
	}
	if c := got["public.down_seq"]; c.Runway != nil || c.Limit != math.MinInt32 {
		t.Errorf("down_seq = %+v, want counting down to the int4 minimum", c)
	}
}

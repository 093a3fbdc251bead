package runway

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

func qn(name string) catalog.QName { return catalog.QName{Schema: "public", Name: name} }

func ptr[T any](v T) *T { return &v }

// seqTable is a table whose id column is fed by seq.
func seqTable(name, typ, seq string) catalog.Table {
	return catalog.Table{Name: qn(name), Kind: "table", Owned: true,
		Columns: []catalog.Column{{Name: "id", Type: typ, NotNull: true, Sequence: ptr(qn(seq))}}}
}

func seq(name, typ string, minv, maxv, incr int64) catalog.Sequence {
	return catalog.Sequence{Name: qn(name), DataType: typ, Min: minv, Max: maxv, Increment: incr, Start: 1, LastValue: ptr(maxv - 10)}
}

func target(table string) planner.Target { return planner.Target{Table: qn(table), Column: "id"} }

func TestPlanRanges(t *testing.T) {
	snap := &catalog.Snapshot{
		Tables: []catalog.Table{seqTable("orders", "integer", "orders_id_seq"), seqTable("flags", "smallint", "flags_id_seq"),
			seqTable("wide", "integer", "wide_seq")},
		Sequences: []catalog.Sequence{seq("orders_id_seq", "integer", 1, math.MaxInt32, 1), seq("flags_id_seq", "smallint", 1, math.MaxInt16, 1),
			seq("wide_seq", "bigint", 1, math.MaxInt32, 1)},
	}
	for _, c := range []struct {
		table string
		from  int64
		sql   string
	}{
		{"orders", math.MinInt32, `ALTER SEQUENCE "public"."orders_id_seq" MINVALUE -2147483648 MAXVALUE -1 START WITH -2147483648 RESTART WITH -2147483648`},
		{"flags", math.MinInt16, `ALTER SEQUENCE "public"."flags_id_seq" MINVALUE -32768 MAXVALUE -1 START WITH -32768 RESTART WITH -32768`},
		// A bigint sequence feeding an integer column: the column's range.
		{"wide", math.MinInt32, `ALTER SEQUENCE "public"."wide_seq" MINVALUE -2147483648 MAXVALUE -1 START WITH -2147483648 RESTART WITH -2147483648`},
	} {
		col := snap.Table(qn(c.table)).Columns[0]
		ch, err := Plan(snap, target(c.table), col.Type, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		if ch.From != c.from || ch.To != -1 || ch.Step.SQL != c.sql || ch.Size() != -c.from {
			t.Errorf("%s: runway %d..%d, %d ids, SQL %s", c.table, ch.From, ch.To, ch.Size(), ch.Step.SQL)
		}
	}
}

func TestPlanRefusals(t *testing.T) {
	part := seqTable("orders_2026", "integer", "orders_id_seq")
	part.PartitionOf = ptr(qn("orders"))
	snap := &catalog.Snapshot{
		Tables: []catalog.Table{
			seqTable("orders", "integer", "orders_id_seq"), part, // a partition shares its parent's sequence: fine
			seqTable("down", "integer", "down_seq"), seqTable("neg", "integer", "neg_seq"), seqTable("cyc", "integer", "cyc_seq"),
			seqTable("shared_a", "integer", "shared_seq"), seqTable("shared_b", "integer", "shared_seq"),
			{Name: qn("plain"), Columns: []catalog.Column{{Name: "id", Type: "integer"}}},
			seqTable("big", "bigint", "big_seq"),
		},
		Sequences: []catalog.Sequence{
			seq("orders_id_seq", "integer", 1, math.MaxInt32, 1), seq("down_seq", "integer", math.MinInt32, -1, -1),
			seq("neg_seq", "integer", math.MinInt32, -1, 1), seq("shared_seq", "integer", 1, math.MaxInt32, 1),
			{Name: qn("cyc_seq"), DataType: "integer", Min: 1, Max: math.MaxInt32, Increment: 1, Cycle: true},
			seq("big_seq", "bigint", 1, math.MaxInt64, 1),
		},
	}
	if _, err := Plan(snap, target("orders"), "integer", nil); err != nil {
		t.Errorf("orders with a partition: %v", err)
	}
	for _, c := range []struct {
		table, base string
		seq         *catalog.QName
		want        string
	}{
		{"down", "integer", nil, "public.down_seq counts down already"},
		{"neg", "integer", nil, "public.neg_seq is already in the negative range"},
		{"cyc", "integer", nil, "public.cyc_seq is CYCLE"},
		{"shared_a", "integer", nil, "public.shared_seq also feeds public.shared_b.id"},
		{"plain", "integer", nil, "public.plain.id is not fed by a sequence or identity"},
		{"orders", "integer", ptr(qn("other_seq")), "public.orders.id is not fed by sequence public.other_seq but by public.orders_id_seq"},
		{"big", "bigint", nil, "public.big.id is bigint, not smallint or integer"},
	} {
		_, err := Plan(snap, target(c.table), c.base, c.seq)
		var re *RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a refusal containing %q", c.table, err, c.want)
		}
	}
	if _, err := Plan(snap, target("nowhere"), "", nil); !errors.As(err, new(*planner.TargetError)) {
		t.Errorf("unknown table: err = %v, want a TargetError", err)
	}
	if _, err := PlanUndo(snap, target("orders"), "integer"); err == nil || !strings.Contains(err.Error(), "is not on a runway") {
		t.Errorf("undo without a runway: %v", err)
	}
	ch, err := PlanUndo(snap, target("neg"), "integer")
	if err != nil || !strings.Contains(ch.Step.SQL, "LOCK TABLE \"public\".\"neg\" IN SHARE MODE") || !strings.Contains(ch.Step.SQL, "IF v > 2147483647 THEN") {
		t.Errorf("undo: %v\n%v", err, ch)
	}
}

func TestNewStatus(t *testing.T) {
	// After prepare's AS bigint the sequence's MINVALUE is the bigint
	// minimum; the runway still starts at the integer minimum.
	st := NewStatus("public.s", math.MinInt64, -1, ptr[int64](-1073741825), "integer")
	if st.From != math.MinInt32 || st.Left != 1073741824 || st.Used != 0.5 {
		t.Errorf("status = %+v", st)
	}
	if st := NewStatus("public.s", math.MinInt32, -1, nil, "integer"); st.Left != 1<<31 || st.Used != 0 {
		t.Errorf("unused runway = %+v", st)
	}
}

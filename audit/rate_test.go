package audit

import (
	"math"
	"testing"
	"time"
)

var now = time.Date(2026, 2, 16, 9, 30, 0, 0, time.UTC)

func day(n float64) time.Time { return now.Add(time.Duration(n * float64(24*time.Hour))) }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestUsed(t *testing.T) {
	cases := []struct {
		name    string
		current *int64
		limit   int64
		want    float64
	}{
		{"int4 column at 1.9e9 fed by a bigint sequence", ptr[int64](1_900_000_000), math.MaxInt32, 0.8847},
		{"smallint identity at 30000", ptr[int64](30_000), math.MaxInt16, 0.9155},
		{"past the limit", ptr[int64](3_000_000_000), math.MaxInt32, 1.397},
		{"descending sequence measured on the min side", ptr[int64](-1_500_000_000), math.MinInt32, 0.6985},
		{"unknown", nil, math.MaxInt32, 0},
		{"negative value, positive limit", ptr[int64](-5), math.MaxInt32, 0},
	}
	for _, c := range cases {
		if got := Used(c.current, c.limit); !near(got, c.want, 0.0001) {
			t.Errorf("%s: Used = %.5f, want %.4f", c.name, got, c.want)
		}
	}
}

func TestRate(t *testing.T) {
	cases := []struct {
		name    string
		samples []Sample
		down    bool
		want    float64
		ok      bool
	}{
		{"two samples a day apart", []Sample{{day(-1), 1_999_000_000}, {now, 2_000_000_000}}, false, 1e6, true},
		{"30s sample", []Sample{{now.Add(-30 * time.Second), 1000}, {now, 1300}}, false, 864_000, true},
		{"unsorted input", []Sample{{now, 300}, {day(-2), 100}, {day(-1), 200}}, false, 100, true},
		{"restart: only the series since the reset counts", []Sample{{day(-3), 9000}, {day(-2), 100}, {now, 300}}, false, 100, true},
		{"no growth", []Sample{{day(-1), 5}, {now, 5}}, false, 0, true},
		{"descending", []Sample{{day(-1), -1000}, {now, -3000}}, true, 2000, true},
		{"one sample", []Sample{{now, 5}}, false, 0, false},
		{"no time between", []Sample{{now, 5}, {now, 9}}, false, 0, false},
	}
	for _, c := range cases {
		got, ok := Rate(c.samples, c.down)
		if ok != c.ok || !near(got, c.want, 0.001) {
			t.Errorf("%s: Rate = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestExhaustsAt(t *testing.T) {
	// 2.0e9 growing 1e6 a day: 147,483,647 values left, 147.48 days.
	at := ExhaustsAt(2_000_000_000, math.MaxInt32, false, 1e6, now)
	if at == nil || !near(at.Sub(now).Hours()/24, 147.48, 0.01) {
		t.Fatalf("ExhaustsAt = %v, want ~147.48 days after %v", at, now)
	}
	if at.Format(time.DateOnly) != "2026-07-13" {
		t.Errorf("date = %s, want 2026-07-13", at.Format(time.DateOnly))
	}
	if at := ExhaustsAt(-2_100_000_000, math.MinInt32, true, 1e6, now); at == nil || !near(at.Sub(now).Hours()/24, 47.48, 0.01) {
		t.Errorf("descending: ExhaustsAt = %v, want ~47.48 days", at)
	}
	if at := ExhaustsAt(3_000_000_000, math.MaxInt32, false, 0, now); at == nil || !at.Equal(now) {
		t.Errorf("past the limit: ExhaustsAt = %v, want now", at)
	}
	if at := ExhaustsAt(10, math.MaxInt32, false, 0, now); at != nil {
		t.Errorf("no growth: ExhaustsAt = %v, want nil", at)
	}
	// A runway counts up to -1 from -2^31: 2^31-1 left at 1e6 a day.
	if at := ExhaustsAt(-2_147_483_647, -1, false, 1e6, now); at == nil || !near(at.Sub(now).Hours()/24, 2147.48, 0.01) {
		t.Errorf("runway: %v", at)
	}
	if at := ExhaustsAt(10, math.MaxInt64, false, 1, now); at != nil {
		t.Errorf("centuries away: ExhaustsAt = %v, want nil", at)
	}
}

func TestApplyHistory(t *testing.T) {
	fs := []Finding{
		{Object: "public.tags.id", Limit: math.MaxInt32, Current: ptr[int64](2_000_000_000)},
		{Object: "public.widened.id", Limit: math.MaxInt32, Current: ptr[int64](1000)},
		{Object: "public.unknown.id", Limit: math.MaxInt32},
		{Object: "public.new.id", Limit: math.MaxInt32, Current: ptr[int64](7)},
	}
	h := History{
		{"public.tags.id", math.MaxInt32}: {{day(-2), 1_998_000_000}, {day(-1), 1_999_000_000}, {day(1), 1}},
		// recorded when the object had another limit: ignored
		{"public.widened.id", math.MaxInt16}: {{day(-1), 0}},
		{"public.unknown.id", math.MaxInt32}: {{day(-1), 0}},
	}
	ApplyHistory(fs, h, now)
	if p := fs[0].PerDay; p == nil || !near(*p, 1e6, 0.01) {
		t.Errorf("tags.id per day = %v, want 1e6 (the sample after now is ignored)", p)
	}
	if at := fs[0].ExhaustsAt; at == nil || at.Format(time.DateOnly) != "2026-07-13" {
		t.Errorf("tags.id exhausts at %v, want 2026-07-13", at)
	}
	for _, f := range fs[1:] {
		if f.PerDay != nil || f.ExhaustsAt != nil {
			t.Errorf("%s: want no rate, got %v %v", f.Object, f.PerDay, f.ExhaustsAt)
		}
	}
}

func TestApplySample(t *testing.T) {
	t0, t1 := now.Add(-30*time.Second), now
	before := []Finding{{Object: "a", Current: ptr[int64](1_000_000)}, {Object: "b", Current: ptr[int64](5)}}
	fs := []Finding{
		{Object: "a", Limit: math.MaxInt32, Current: ptr[int64](1_000_300)},
		{Object: "b", Limit: math.MaxInt32, Current: ptr[int64](5)},
		{Object: "c", Limit: math.MaxInt32, Current: ptr[int64](2_200_000_000)},
	}
	ApplySample(fs, before, t0, t1)
	if p := fs[0].PerDay; p == nil || !near(*p, 864_000, 0.01) {
		t.Errorf("a per day = %v, want 864000", p)
	}
	if fs[1].PerDay == nil || *fs[1].PerDay != 0 || fs[1].ExhaustsAt != nil {
		t.Errorf("b: want rate 0 and no date, got %v %v", fs[1].PerDay, fs[1].ExhaustsAt)
	}
	if fs[2].PerDay != nil || fs[2].ExhaustsAt == nil || !fs[2].ExhaustsAt.Equal(t1) {
		t.Errorf("c: already past its limit: want no rate and exhausted at t1, got %v %v", fs[2].PerDay, fs[2].ExhaustsAt)
	}
}

func TestSort(t *testing.T) {
	fs := []Finding{
		{Object: "low", Used: 0.1},
		{Object: "later", Used: 0.2, ExhaustsAt: ptr(day(300))},
		{Object: "high", Used: 0.9},
		{Object: "soon", Used: 0.6, ExhaustsAt: ptr(day(10))},
		{Object: "past", Used: 1.4, ExhaustsAt: ptr(now)},
		{Object: "high2", Used: 0.9},
		{Object: "a.child_id", Used: 0.9, viaRef: true},
	}
	Sort(fs)
	want := []string{"past", "soon", "later", "high", "high2", "a.child_id", "low"}
	for i, w := range want {
		if fs[i].Object != w {
			t.Fatalf("order %d = %s, want %v", i, fs[i].Object, want)
		}
	}
}

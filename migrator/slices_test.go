package migrator

import (
	"math"
	"reflect"
	"testing"

	"github.com/pgwiden/pgwiden/state"
)

func TestEvenCuts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lo, hi int64
		n      int
		want   []int64
	}{
		{"four slices of 1..100", 1, 100, 4, []int64{25, 50, 75}},
		{"two slices", 0, 10, 2, []int64{5}},
		{"one worker", 1, 100, 1, nil},
		{"a single value", 7, 7, 4, nil},
		{"narrower than the workers: no repeats", 1, 3, 8, []int64{2}},
		{"negative keys", -100, 100, 4, []int64{-50, 0, 50}},
		{"the whole int64 range", math.MinInt64, math.MaxInt64, 2, []int64{-1}},
		{"near the top", math.MaxInt64 - 4, math.MaxInt64, 2, []int64{math.MaxInt64 - 2}},
		{"pages", 0, 1000, 3, []int64{333, 666}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evenCuts(tc.lo, tc.hi, tc.n); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("evenCuts(%d, %d, %d) = %v, want %v", tc.lo, tc.hi, tc.n, got, tc.want)
			}
		})
	}
}

// The cuts of a sparse key repeat where no key lies between two values,
// and one may be the stop itself: neither may leave an empty slice.
func TestUniqueCuts(t *testing.T) {
	cuts := [][]string{{"10", "a"}, {"10", "a"}, {"40", "b"}, {"90", "z"}}
	got := uniqueCuts(cuts, []string{"90", "z"})
	want := [][]string{{"10", "a"}, {"40", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("uniqueCuts = %v, want %v", got, want)
	}
}

// Slices follow one another: each begins (exclusive) where the one
// before it stops, the first at the table's start and the last at stop,
// so together they cover exactly the walk's range, each key once.
func TestSlicesOf(t *testing.T) {
	got := slicesOf([][]string{{"25"}, {"50"}}, []string{"100"})
	want := []state.Slice{
		{Index: 0, Start: nil, Stop: []string{"25"}},
		{Index: 1, Start: []string{"25"}, Stop: []string{"50"}},
		{Index: 2, Start: []string{"50"}, Stop: []string{"100"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("slicesOf = %+v, want %+v", got, want)
	}
	if got := slicesOf(nil, []string{"100"}); len(got) != 1 || got[0].Start != nil || got[0].Stop[0] != "100" {
		t.Errorf("slicesOf without cuts = %+v, want the one range up to the stop", got)
	}
}

func TestPageCuts(t *testing.T) {
	got, err := pageCuts([]string{"10"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"2"}, {"5"}, {"7"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("pageCuts(10 pages, 4) = %v, want %v", got, want)
	}
	if got, _ := pageCuts([]string{"1"}, 4); got != nil {
		t.Errorf("pageCuts(1 page, 4) = %v, want none: one page is one slice", got)
	}
	if _, err := pageCuts([]string{"x"}, 2); err == nil {
		t.Error("pageCuts of a stop that is not a page number: no error")
	}
}

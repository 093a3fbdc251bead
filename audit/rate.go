package audit

import (
	"slices"
	"time"
)

// Sample is one reading of a value.
type Sample struct {
	At    time.Time
	Value int64
}

// maxHorizon caps the estimates: beyond a century a date is noise, and
// time.Duration would overflow not much later.
const maxHorizon = 100 * 365.25 // days

// Used is the fraction of the range used: current/limit, 0 when current is
// unknown or on the other side of zero (a sequence that counts down has a
// negative limit, and used is then measured on the min side).
func Used(current *int64, limit int64) float64 {
	if current == nil || limit == 0 {
		return 0
	}
	u := float64(*current) / float64(limit)
	return max(u, 0)
}

// Rate returns how many values a day the series moves towards its limit
// (upwards, or downwards when down is set), and false when the samples span
// no time. Only the samples since the last reset count: a value moving away
// from the limit (a restarted sequence, deleted rows) starts a new series.
func Rate(samples []Sample, down bool) (float64, bool) {
	s := slices.Clone(samples)
	slices.SortStableFunc(s, func(a, b Sample) int { return a.At.Compare(b.At) })
	if len(s) < 2 {
		return 0, false
	}
	first := len(s) - 1
	for first > 0 && toward(s[first-1].Value, s[first].Value, down) {
		first--
	}
	span := s[len(s)-1].At.Sub(s[first].At)
	if span <= 0 {
		return 0, false
	}
	moved := float64(s[len(s)-1].Value - s[first].Value)
	if down {
		moved = -moved
	}
	return moved / span.Hours() * 24, true
}

// toward reports whether going from a to b does not move away from the limit.
func toward(a, b int64, down bool) bool {
	if down {
		return b <= a
	}
	return b >= a
}

// ExhaustsAt returns when current reaches limit at perDay values a day,
// counting down towards it when down is set, from now: now itself when
// the limit is already reached, and nil when the value does not grow or
// the date is more than a century away.
func ExhaustsAt(current, limit int64, down bool, perDay float64, now time.Time) *time.Time {
	left := float64(limit) - float64(current)
	if down {
		left = -left
	}
	if left <= 0 {
		at := now.UTC().Truncate(time.Second)
		return &at
	}
	if perDay <= 0 || left/perDay > maxHorizon {
		return nil
	}
	at := now.Add(time.Duration(left / perDay * float64(24*time.Hour))).UTC().Truncate(time.Second)
	return &at
}

// estimate sets f.PerDay and f.ExhaustsAt from samples that end with the
// reading f.Current taken at now.
func estimate(f *Finding, samples []Sample, now time.Time) {
	if f.Current == nil {
		return
	}
	var perDay float64
	if r, ok := Rate(samples, f.Down()); ok {
		perDay = r
		f.PerDay = &r
	}
	f.ExhaustsAt = ExhaustsAt(*f.Current, f.Limit, f.Down(), perDay, now)
}

// ApplySample estimates growth from two scans of the same snapshot: before
// taken at t0 and fs (updated in place) at t1.
func ApplySample(fs, before []Finding, t0, t1 time.Time) {
	prev := map[string]*int64{}
	for _, b := range before {
		prev[b.Object] = b.Current
	}
	for i := range fs {
		f := &fs[i]
		var s []Sample
		if p := prev[f.Object]; p != nil {
			s = append(s, Sample{At: t0, Value: *p})
		}
		if f.Current != nil {
			s = append(s, Sample{At: t1, Value: *f.Current})
		}
		estimate(f, s, t1)
	}
}

// ApplyHistory estimates growth from recorded history plus the current
// readings in fs (updated in place) taken at now. History recorded under
// another limit (before a column or sequence was widened) is ignored.
func ApplyHistory(fs []Finding, h History, now time.Time) {
	for i := range fs {
		f := &fs[i]
		s := slices.Clone(h[HistoryKey{Object: f.Object, Limit: f.Limit}])
		s = slices.DeleteFunc(s, func(x Sample) bool { return !x.At.Before(now) })
		if f.Current != nil {
			s = append(s, Sample{At: now, Value: *f.Current})
		}
		estimate(f, s, now)
	}
}

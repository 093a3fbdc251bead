package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func sampleReport() *Report {
	fs := []Finding{
		{Object: "public.tags.id", Kind: KindColumn, Type: "integer", Sequence: "public.tags_id_seq", Limit: math.MaxInt32,
			Current: ptr[int64](2_000_000_000)},
		{Object: "public.codes.alt", Kind: KindColumn, Type: "integer", Limit: math.MaxInt32, Note: "unknown (no index)"},
	}
	for i := range fs {
		fs[i].Used = Used(fs[i].Current, fs[i].Limit)
	}
	ApplyHistory(fs, History{{"public.tags.id", math.MaxInt32}: {{day(-1), 1_999_000_000}}}, now)
	Sort(fs)
	return &Report{Database: "app", TakenAt: now, Threshold: DefaultThreshold, RatesFrom: "history", Findings: fs, Pace: DefaultPace}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Findings []map[string]any `json:"findings"`
		Summary  map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	keys := []string{"object", "kind", "type", "sequence", "limit", "current", "used", "above_threshold", "per_day", "exhausts_at", "note",
		"migration_s", "start_by", "runway", "unknown"}
	for _, f := range got.Findings {
		for _, k := range keys {
			if _, ok := f[k]; !ok {
				t.Errorf("finding %v has no key %q", f["object"], k)
			}
		}
		if len(f) != len(keys) {
			t.Errorf("finding %v has keys %v, want exactly %v", f["object"], f, keys)
		}
	}
	tags := got.Findings[0]
	if tags["object"] != "public.tags.id" || tags["limit"] != float64(math.MaxInt32) || tags["current"] != 2e9 ||
		tags["used"] != 0.931323 || tags["above_threshold"] != true || tags["per_day"] != 1e6 || tags["exhausts_at"] != "2026-07-13T21:06:27Z" {
		t.Errorf("tags finding = %v", tags)
	}
	alt := got.Findings[1]
	if alt["current"] != nil || alt["per_day"] != nil || alt["exhausts_at"] != nil || alt["above_threshold"] != false {
		t.Errorf("unknown finding = %v", alt)
	}
	s := got.Summary
	if s["threshold"] != 0.5 || s["above_threshold"] != 1.0 || s["findings"] != 2.0 || s["most_urgent"] != "public.tags.id" ||
		s["format_version"] != 1.0 || s["rates_from"] != "history" || s["database"] != "app" || s["taken_at"] != "2026-02-16T09:30:00Z" {
		t.Errorf("summary = %v", s)
	}
}

func TestWriteJSONEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &Report{Threshold: 0.5}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"findings": []`) || !strings.Contains(buf.String(), `"most_urgent": null`) {
		t.Errorf("empty report:\n%s", buf.String())
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(out, "\n")
	for _, want := range []string{
		`pgwiden audit of "app" at 2026-02-16 09:30:00 UTC, threshold 50%, rates from history`,
		"start by = exhaustion - migration time (2 x closure rows at 1000 rows/s: default, conservative",
		"OBJECT", "93.1%", "1000000", "2026-07-13 (147d)", "unknown (no index)", "1 of 2 above 50% (marked !).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(lines[4], "! ") || !strings.Contains(lines[4], "public.tags.id") || strings.HasPrefix(lines[5], "!") {
		t.Errorf("the finding above the threshold must come first and be marked:\n%s", out)
	}
}

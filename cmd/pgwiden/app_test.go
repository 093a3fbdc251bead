package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestConsoleDurations: console log lines show durations with their unit,
// rounded (took=5.1ms); JSON lines keep float milliseconds.
func TestConsoleDurations(t *testing.T) {
	saved := zerolog.DurationFieldFormat
	t.Cleanup(func() { zerolog.DurationFieldFormat = saved })
	var b bytes.Buffer
	log := zerolog.New(consoleWriter(&b))
	log.Info().Str("step", "prepare/add-shadow/public.t").Dur("took", 5078184*time.Nanosecond).Dur("wait", 75*time.Second).Str("file", "10s").Msg("step done")
	line := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(b.String(), "") // colours
	for _, want := range []string{`took=5.1ms`, `wait=1m15s`, `step=prepare/add-shadow/public.t`, `file=10s`} {
		if !strings.Contains(line, want) {
			t.Errorf("console line %q lacks %s", line, want)
		}
	}

	zerolog.DurationFieldFormat = saved
	b.Reset()
	out, err := logWriter("json", &b)
	if err != nil {
		t.Fatal(err)
	}
	jlog := zerolog.New(out)
	jlog.Info().Dur("took", 5078184*time.Nanosecond).Msg("step done")
	if !regexp.MustCompile(`"took":5\.078184\b`).MatchString(b.String()) {
		t.Errorf("JSON line %q: want took in float milliseconds", b.String())
	}
}

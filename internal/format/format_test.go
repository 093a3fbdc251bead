package format

import (
	"testing"
	"time"
)

// TestBytes: pg_size_pretty's units and thresholds (SELECT pg_size_pretty(n)).
func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 8191: "8191 bytes", 10239: "10239 bytes", 10240: "10 kB",
		1536 << 10: "1536 kB", 10 << 20: "10 MB", 5 << 30: "5120 MB", 50 << 30: "50 GB", -20480: "-20 kB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	if got := BytesPerSecond(100 << 20); got != "100 MB/s" {
		t.Errorf("BytesPerSecond(100MB) = %q", got)
	}
}

// TestParseBytes: flags take PostgreSQL's 1024-based units.
func TestParseBytes(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "65536": 65536, "50MB": 50 << 20, "1.5GB": 1.5 * (1 << 30), "512kB": 512 << 10, " 2 TB ": 2 << 40, "10B": 10} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"fast", "-1MB", "MB", "Inf", "NaN", "5 MiB"} {
		if got, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) = %v, want an error", in, got)
		}
	}
}

func TestCountRate(t *testing.T) {
	for f, want := range map[float64]string{1234567.4: "1,234,567", -1234: "-1,234", 12: "12", 0.5: "1"} {
		if got := Count(f); got != want {
			t.Errorf("Count(%v) = %q, want %q", f, got, want)
		}
	}
	if got := Rate(98765.4, "rows"); got != "98,765 rows/s" {
		t.Errorf("Rate = %q", got)
	}
}

// TestDuration: two or three significant digits, Go's syntax.
func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5078184 * time.Nanosecond: "5.1ms", 4200 * time.Microsecond: "4.2ms", 250 * time.Millisecond: "250ms",
		12449 * time.Millisecond: "12.4s", 1234 * time.Millisecond: "1.23s", 75 * time.Second: "1m15s", 5 * time.Minute: "5m",
		3725 * time.Second: "1h2m5s", 9000 * time.Second: "2h30m", 2 * time.Hour: "2h", 1500 * time.Nanosecond: "1.5us", 910 * time.Microsecond: "910us",
		0: "0s", -3 * time.Millisecond: "-3ms",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

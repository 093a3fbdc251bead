package format

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Bytes writes a size as pg_size_pretty does: "8191 bytes", "12 kB",
// "1843 MB", "5 GB": a unit is used from 10 of it up, rounded to whole
// units.
func Bytes(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	f, u := math.Abs(float64(n)), 0
	for f >= 10*1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if n < 0 {
		f = -f
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + " " + units[u]
}

// BytesPerSecond writes a rate of bytes, e.g. a WAL rate: "50 MB/s".
func BytesPerSecond(b float64) string { return Bytes(int64(math.Round(b))) + "/s" }

// byteUnits are the suffixes ParseBytes takes, PostgreSQL style (1024-based,
// as in its memory settings).
var byteUnits = []struct {
	suffix string
	mult   float64
}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"KB", 1 << 10}, {"B", 1}}

// ParseBytes reads "50MB", "1.5GB", "65536" or "" (0).
func ParseBytes(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	mult := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, errors.New("not a size")
	}
	return n * mult, nil
}

// Count writes a number rounded to a whole one, with thousands
// separators: "1,234,567".
func Count(f float64) string { return humanize.Comma(int64(math.Round(f))) }

// Rate writes a count per second with its unit: Rate(98765.4, "rows")
// is "98,765 rows/s".
func Rate(perSecond float64, unit string) string { return Count(perSecond) + " " + unit + "/s" }

// Duration writes a duration in Go's syntax with two or three significant
// digits: "910us", "4.2ms", "250ms", "12.4s", "1m15s", "2h30m" (ASCII "us"
// rather than "µs", which time.ParseDuration reads too: a console log
// would quote it). It is what the console log, the CLI's summaries, the
// throttle's reasons and the rehearsal report print.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var r time.Duration
	switch {
	case d >= time.Minute:
		r = time.Second
	case d >= 10*time.Second:
		r = 100 * time.Millisecond
	case d >= time.Second:
		r = 10 * time.Millisecond
	case d >= 10*time.Millisecond:
		r = time.Millisecond
	case d >= time.Millisecond:
		r = 100 * time.Microsecond
	case d >= 10*time.Microsecond:
		r = time.Microsecond
	default:
		r = 1
	}
	s := strings.Replace(d.Round(r).String(), "µs", "us", 1)
	if d >= time.Minute {
		// "2h30m" and "5m" read better than "2h30m0s" and "5m0s".
		if strings.HasSuffix(s, "m0s") {
			s = s[:len(s)-2]
		}
		if strings.HasSuffix(s, "h0m") {
			s = s[:len(s)-2]
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

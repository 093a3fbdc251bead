// Package format writes the figures pgwiden shows operators, one way each:
// sizes (Bytes, BytesPerSecond), counts (Count), rates (Rate) and
// durations (Duration). plan, status, the progress lines, the throttle's
// reasons, the console log and the rehearsal report all use it, so the
// same figure never reads two ways in two places. ParseBytes reads the
// sizes operators type in flags.
//
// Sizes follow PostgreSQL, not SI or IEC: 1024-based units named kB, MB,
// GB, TB, printed as pg_size_pretty prints them, so a figure can be
// compared with what a DBA's own queries show. Counts use
// github.com/dustin/go-humanize's thousands separators; its byte sizes do
// not fit (SI "MB" is 1000-based, IEC says "MiB"), nor does it format
// durations.
//
// Import rules: the standard library and go-humanize only; any package
// may import it.
package format

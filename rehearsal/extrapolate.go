package rehearsal

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pgwiden/pgwiden/planner"
)

// Kind says how the time of one piece of work grows with the tables.
type Kind string

// The ways work scales to production.
const (
	// ByRows is work that reads every row of a table: the backfill, the
	// verifications, VALIDATE CONSTRAINT.
	ByRows Kind = "rows"
	// ByIndex is an index build: it scales with the size of the table's
	// indexes.
	ByIndex Kind = "index_bytes"
	// Fixed is work whose time does not depend on the table's size:
	// catalog-only statements, the swap.
	Fixed Kind = "fixed"
)

// KindOf classifies a plan step for the extrapolation.
func KindOf(s planner.Step) Kind {
	switch {
	case s.Batch != nil, strings.Contains(s.SQL, "VALIDATE CONSTRAINT"):
		return ByRows
	case s.Lock == planner.ShareUpdateExclusive && strings.HasPrefix(s.SQL, "CREATE ") && strings.Contains(s.SQL, " INDEX CONCURRENTLY "):
		return ByIndex
	}
	return Fixed
}

// Work is one measured piece of a phase, attributed to one closure table.
type Work struct {
	Phase string
	Step  string
	Table string // the closure table (a partition's parent)
	Kind  Kind
	Took  time.Duration
}

// Size is what the extrapolation knows of one closure table, summed over
// its leaf partitions.
type Size struct {
	// Found is false when the table does not exist on that server.
	Found bool `json:"found"`
	// Rows is the number of rows; RowsKnown is false when the statistics
	// have never been gathered (reltuples -1 on a leaf).
	Rows      float64 `json:"rows"`
	RowsKnown bool    `json:"rows_known"`
	// IndexBytes and TotalBytes are pg_indexes_size and
	// pg_total_relation_size.
	IndexBytes int64 `json:"index_bytes"`
	TotalBytes int64 `json:"total_bytes"`
}

// PhaseTime is the measured duration of one phase.
type PhaseTime struct {
	Name string
	Took time.Duration
}

// Input is everything the extrapolation works from.
type Input struct {
	// Source says where the production sizes come from, for the report.
	Source string
	// Tables orders the closure's tables for the report (parents first);
	// tables missing from it come after, sorted.
	Tables     []string
	Phases     []PhaseTime
	Work       []Work
	Staging    map[string]Size
	Production map[string]Size
	// ExtraDiskBytes and WALBytes were measured on staging.
	ExtraDiskBytes int64
	WALBytes       int64
}

// Extrapolation is the rehearsal's figures scaled to production.
type Extrapolation struct {
	Source string          `json:"source"`
	Tables []TableFactor   `json:"tables"`
	Phases []PhaseEstimate `json:"phases"`
	// StagingSeconds and ProductionSeconds add up the phases.
	StagingSeconds    float64 `json:"staging_s"`
	ProductionSeconds float64 `json:"production_s"`
	// BytesFactor is production's closure size over staging's; extra disk
	// and WAL are scaled by it.
	BytesFactor    float64  `json:"bytes_factor"`
	ExtraDiskBytes int64    `json:"extra_disk_bytes"`
	WALBytes       int64    `json:"wal_bytes"`
	Assumptions    []string `json:"assumptions"`
}

// TableFactor compares one closure table on both servers.
type TableFactor struct {
	Table       string  `json:"table"`
	Staging     Size    `json:"staging"`
	Production  Size    `json:"production"`
	RowFactor   float64 `json:"row_factor"`
	IndexFactor float64 `json:"index_factor"`
}

// PhaseEstimate is one phase: measured, and scaled to production.
type PhaseEstimate struct {
	Name              string         `json:"name"`
	StagingSeconds    float64        `json:"staging_s"`
	ProductionSeconds float64        `json:"production_s"`
	Work              []WorkEstimate `json:"work"`
	// FixedSeconds is the part of the phase no step accounts for (the
	// time between steps, state bookkeeping), kept as measured.
	FixedSeconds float64 `json:"fixed_s"`
}

// WorkEstimate is one piece of work scaled to production.
type WorkEstimate struct {
	Step              string  `json:"step"`
	Table             string  `json:"table"`
	Kind              Kind    `json:"kind"`
	StagingSeconds    float64 `json:"staging_s"`
	Factor            float64 `json:"factor"`
	ProductionSeconds float64 `json:"production_s"`
}

// Extrapolate scales the measured times to production's sizes: work of
// kind ByRows by the table's rows, ByIndex by its index size, the rest
// (and the part of a phase no step accounts for) not at all. It is pure.
func Extrapolate(in Input) *Extrapolation {
	x := &Extrapolation{Source: in.Source}
	notes := map[string]bool{}
	factors := map[string]TableFactor{}
	for _, name := range tableOrder(in.Tables, in.Staging) {
		f := tableFactor(name, in.Staging[name], in.Production[name], notes)
		factors[name] = f
		x.Tables = append(x.Tables, f)
	}
	for _, ph := range in.Phases {
		pe := estimatePhase(ph, in.Work, factors)
		x.Phases = append(x.Phases, pe)
		x.StagingSeconds += pe.StagingSeconds
		x.ProductionSeconds += pe.ProductionSeconds
	}
	x.BytesFactor = bytesFactor(in.Staging, in.Production)
	x.ExtraDiskBytes = int64(math.Round(float64(in.ExtraDiskBytes) * x.BytesFactor))
	x.WALBytes = int64(math.Round(float64(in.WALBytes) * x.BytesFactor))
	x.Assumptions = append(baseAssumptions(in.Source), sortedKeys(notes)...)
	return x
}

// tableFactor compares one table, noting why a factor had to be 1.
func tableFactor(name string, s, p Size, notes map[string]bool) TableFactor {
	f := TableFactor{Table: name, Staging: s, Production: p, RowFactor: 1, IndexFactor: 1}
	switch {
	case !p.Found:
		notes[fmt.Sprintf("%s is not on production: its work is kept as measured on staging", name)] = true
		return f
	case !p.RowsKnown:
		notes[fmt.Sprintf("%s has never been analyzed on production (reltuples -1): its row count is unknown, its work is kept as measured; run ANALYZE there or pass --production-rows", name)] = true
	default:
		f.RowFactor = ratio(p.Rows, s.Rows, name+" rows", notes)
	}
	f.IndexFactor = ratio(float64(p.IndexBytes), float64(s.IndexBytes), name+" index size", notes)
	if s.IndexBytes == 0 && p.IndexBytes > 0 {
		f.IndexFactor = f.RowFactor
	}
	return f
}

// ratio is prod/staging; from an empty staging table it cannot scale and
// falls back to 1 (with a note when production is not empty).
func ratio(prod, staging float64, what string, notes map[string]bool) float64 {
	switch {
	case staging > 0:
		return prod / staging
	case prod > 0:
		notes[fmt.Sprintf("%s is 0 on staging: the work on it cannot be scaled and is kept as measured", what)] = true
	}
	return 1
}

// estimatePhase scales the work of one phase and keeps the rest as is.
func estimatePhase(ph PhaseTime, work []Work, factors map[string]TableFactor) PhaseEstimate {
	pe := PhaseEstimate{Name: ph.Name, StagingSeconds: ph.Took.Seconds()}
	var accounted float64
	for _, w := range work {
		if w.Phase != ph.Name {
			continue
		}
		// A table the extrapolation knows nothing about keeps its time.
		factor := 1.0
		if f, ok := factors[w.Table]; ok && w.Kind == ByRows {
			factor = f.RowFactor
		} else if ok && w.Kind == ByIndex {
			factor = f.IndexFactor
		}
		we := WorkEstimate{Step: w.Step, Table: w.Table, Kind: w.Kind, StagingSeconds: w.Took.Seconds(), Factor: factor}
		we.ProductionSeconds = we.StagingSeconds * factor
		accounted += we.StagingSeconds
		pe.ProductionSeconds += we.ProductionSeconds
		pe.Work = append(pe.Work, we)
	}
	pe.FixedSeconds = math.Max(0, pe.StagingSeconds-accounted)
	pe.ProductionSeconds += pe.FixedSeconds
	return pe
}

// bytesFactor is production's closure size over staging's, for the
// tables found on both.
func bytesFactor(staging, prod map[string]Size) float64 {
	var s, p int64
	for name, st := range staging {
		if pr := prod[name]; pr.Found {
			s += st.TotalBytes
			p += pr.TotalBytes
		}
	}
	if s == 0 {
		return 1
	}
	return float64(p) / float64(s)
}

// baseAssumptions are what every extrapolation rests on.
func baseAssumptions(source string) []string {
	return []string{
		"production sizes from " + source,
		"times scale linearly: the backfill, the verifications and VALIDATE CONSTRAINT with each table's rows, CREATE INDEX CONCURRENTLY with the size of the table's indexes",
		"catalog-only steps, the swap and the time between steps are kept as measured: they do not depend on the tables' size, but their lock waits depend on production's traffic",
		"production runs on the same hardware and configuration as staging, under the same load as during the rehearsal, with the same --batch-size and --max-rate (a --max-rate caps the backfill at rows/rate whatever the hardware)",
		"extra disk and WAL scale with the closure's total size (tables, indexes and TOAST); the WAL measured on staging includes every other write to that server during the rehearsal",
	}
}

// ScaleRows builds production sizes from one row count: the target table
// has rows rows and every closure table grows by the same factor. It fails
// when the target is empty on staging, which gives nothing to scale.
func ScaleRows(staging map[string]Size, target string, rows float64) (map[string]Size, error) {
	t, ok := staging[target]
	if !ok || t.Rows <= 0 {
		return nil, fmt.Errorf("--production-rows: %s has no rows on staging, so there is nothing to scale from; use --production-dsn", target)
	}
	if rows < 0 {
		return nil, fmt.Errorf("--production-rows must not be negative")
	}
	f := rows / t.Rows
	out := make(map[string]Size, len(staging))
	for name, s := range staging {
		out[name] = Size{Found: true, RowsKnown: true, Rows: math.Round(s.Rows * f),
			IndexBytes: int64(math.Round(float64(s.IndexBytes) * f)), TotalBytes: int64(math.Round(float64(s.TotalBytes) * f))}
	}
	return out, nil
}

// tableOrder lists the staging tables in the order given, then the rest.
func tableOrder(order []string, staging map[string]Size) []string {
	var out []string
	for _, name := range order {
		if _, ok := staging[name]; ok && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, name := range sortedKeys(staging) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

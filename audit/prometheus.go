package audit

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Metric names of `pgwiden audit --format prometheus`. Every series has
// the label database; per-finding series add object (schema.table.column
// or schema.sequence), kind and type. Durations are seconds from the run
// (pgwiden_audit_last_run_timestamp_seconds), so a textfile left behind by
// a cron job that stopped is told apart by that timestamp's age.
const (
	metricUsed         = "pgwiden_audit_used_ratio"
	metricCurrent      = "pgwiden_audit_current_value"
	metricLimit        = "pgwiden_audit_limit_value"
	metricExhaustion   = "pgwiden_audit_exhaustion_seconds"
	metricStartBy      = "pgwiden_audit_start_by_seconds"
	metricMigration    = "pgwiden_audit_migration_estimate_seconds"
	metricUnknown      = "pgwiden_audit_value_unknown"
	metricRunwayInfo   = "pgwiden_audit_runway_info"
	metricRunwayLeft   = "pgwiden_audit_runway_remaining_ids"
	metricRunwayUsed   = "pgwiden_audit_runway_used_ratio"
	metricFindings     = "pgwiden_audit_findings"
	metricAbove        = "pgwiden_audit_above_threshold_findings"
	metricUnknownCount = "pgwiden_audit_unknown_findings"
	metricPassedCount  = "pgwiden_audit_start_by_passed_findings" //nolint:gosec // G101 reads "passed" as a password; this is a metric name
	metricThreshold    = "pgwiden_audit_threshold_ratio"
	metricPace         = "pgwiden_audit_pace_rows_per_second"
	metricLastRun      = "pgwiden_audit_last_run_timestamp_seconds"
	labelObject        = "object"
	labelKind          = "kind"
	labelType          = "type"
	labelSequence      = "sequence"
	labelDatabase      = "database"
)

// Registry returns the report as Prometheus metrics in a registry of its
// own (never the global one: nothing else of pgwiden's is exported).
func Registry(r *Report) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	db := prometheus.Labels{labelDatabase: r.Database}
	finding := []string{labelObject, labelKind, labelType}
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: db}, labels)
		reg.MustRegister(g)
		return g
	}
	used := vec(metricUsed, "Fraction of the range used: current value / limit (on a runway, of the runway).", finding...)
	current := vec(metricCurrent, "Current value: the sequence's last value, or max() through an index. Absent when unknown.", finding...)
	limit := vec(metricLimit, "Last value that fits: the smaller of the type's and the sequence's limit (a runway's end).", finding...)
	exhaustion := vec(metricExhaustion, "Seconds from the audit run until the value reaches its limit at the measured growth rate (0: reached). Absent without a growth rate.", finding...)
	startBy := vec(metricStartBy, "Seconds from the audit run until the start-by date (exhaustion - migration estimate); negative once passed.", finding...)
	migration := vec(metricMigration, "Estimated seconds a migration to bigint takes: 2 x the closure's rows / pace.", finding...)
	unknown := vec(metricUnknown, "1 for a finding whose value could not be read for lack of privilege.", finding...)
	runwayInfo := vec(metricRunwayInfo, "1 for a column whose sequence is on the emergency runway (pgwiden runway).", labelObject, labelSequence)
	runwayLeft := vec(metricRunwayLeft, "Ids left on the emergency runway.", labelObject, labelSequence)
	runwayUsed := vec(metricRunwayUsed, "Fraction of the emergency runway used.", labelObject, labelSequence)
	for i := range r.Findings {
		f := &r.Findings[i]
		l := prometheus.Labels{labelObject: f.Object, labelKind: f.Kind, labelType: f.Type}
		used.With(l).Set(f.Used)
		limit.With(l).Set(float64(f.Limit))
		if f.Current != nil {
			current.With(l).Set(float64(*f.Current))
		}
		if f.ExhaustsAt != nil {
			exhaustion.With(l).Set(max(f.ExhaustsAt.Sub(r.TakenAt).Seconds(), 0))
		}
		if f.StartBy != nil {
			startBy.With(l).Set(f.StartBy.Sub(r.TakenAt).Seconds())
		}
		if f.MigrationSeconds != nil {
			migration.With(l).Set(*f.MigrationSeconds)
		}
		if f.Unknown {
			unknown.With(l).Set(1)
		}
		if rw := f.Runway; rw != nil {
			rl := prometheus.Labels{labelObject: f.Object, labelSequence: rw.Sequence}
			runwayInfo.With(rl).Set(1)
			runwayLeft.With(rl).Set(float64(rw.Left))
			runwayUsed.With(rl).Set(rw.Used)
		}
	}
	for name, v := range map[string]struct {
		help  string
		value float64
	}{
		metricFindings:     {"Objects audited.", float64(len(r.Findings))},
		metricAbove:        {"Findings above the threshold or on a runway (audit exits 3 when > 0).", float64(r.Above())},
		metricUnknownCount: {"Findings whose value could not be read (audit exits 6 when > 0 and none is above).", float64(r.Unknown())},
		metricPassedCount:  {"Findings whose start-by date has passed.", float64(r.StartByPassed())},
		metricThreshold:    {"The --threshold of the run.", r.Threshold},
		metricPace:         {"Rows per second the migration estimates assume.", r.Pace.RowsPerSecond},
		metricLastRun:      {"When the audit read the values (Unix time).", float64(r.TakenAt.UnixMilli()) / 1000},
	} {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: v.help, ConstLabels: db})
		g.Set(v.value)
		if err := reg.Register(g); err != nil {
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
	}
	return reg, nil
}

// WritePrometheus writes the report in the Prometheus text exposition
// format, through the client library's own encoder.
func WritePrometheus(w io.Writer, r *Report) error {
	reg, err := Registry(r)
	if err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("gather audit metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("write audit metrics: %w", err)
		}
	}
	return nil
}

// WritePrometheusFile writes the metrics to path atomically, as node
// exporter's textfile collector needs: into a temporary file in the same
// directory, made readable (0644), then renamed over path, so a scrape
// never reads half a file.
func WritePrometheusFile(path string, r *Report) error {
	reg, err := Registry(r)
	if err != nil {
		return err
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

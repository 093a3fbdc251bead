package rehearsal

import (
	"encoding/json"
	"io"
	"time"

	"github.com/pgwiden/pgwiden/planner"
)

// FormatVersion is the version of the JSON report; bump it on any
// incompatible change.
const FormatVersion = 1

// Report is everything a rehearsal measured, for a change review.
type Report struct {
	FormatVersion int       `json:"format_version"`
	Target        string    `json:"target"`
	Database      string    `json:"database"`
	ServerVersion int       `json:"server_version"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	// Passed is true when every phase ran, the verification passed and
	// the rollback (unless kept) left the schema as it was; Problems says
	// what went wrong otherwise.
	Passed   bool     `json:"passed"`
	Problems []string `json:"problems"`
	// StagingCheck says why the server was taken for staging.
	StagingCheck string   `json:"staging_check"`
	Settings     Settings `json:"settings"`
	Plan         PlanInfo `json:"plan"`
	// Migration is the rehearsal's migration in schema pgwiden, and the
	// phase it was left in: rolled_back, or cut_over with --keep.
	Migration  int64         `json:"migration"`
	FinalPhase string        `json:"final_phase"`
	Kept       bool          `json:"kept"`
	Phases     []PhaseResult `json:"phases"`
	Backfill   WalkSummary   `json:"backfill"`
	// Verification is the cutover's check that every shadow value equals
	// its column, which the swap waits for.
	Verification Verification `json:"verification"`
	Locks        Locks        `json:"locks"`
	Disk         Disk         `json:"disk"`
	// WALBytes adds up the phases' WAL (nil when unavailable).
	WALBytes      *int64         `json:"wal_bytes"`
	Warnings      []Warning      `json:"warnings"`
	Load          []LoadReport   `json:"load,omitempty"`
	SchemaCheck   *SchemaCheck   `json:"schema_check,omitempty"`
	Extrapolation *Extrapolation `json:"extrapolation,omitempty"`
	// Production describes the production database the extrapolation read
	// (--production-dsn), read-only.
	Production *Production `json:"production,omitempty"`
	Notes      []string    `json:"notes,omitempty"`
	// PlanText is `pgwiden plan`'s output at the start.
	PlanText string `json:"plan_text"`
}

// Settings are the engine settings the rehearsal ran with; BatchSize is
// the first batch's size (the throttle adapts the later ones).
type Settings struct {
	BatchSize        int     `json:"batch_size"`
	MaxRate          float64 `json:"max_rate"`
	LockTimeout      string  `json:"lock_timeout"`
	ScanLockTimeout  string  `json:"scan_lock_timeout"`
	StatementTimeout string  `json:"statement_timeout"`
	SwapAttempts     int     `json:"swap_attempts"`
}

// PlanInfo summarizes the plan the rehearsal ran.
type PlanInfo struct {
	Target    planner.Target           `json:"target"`
	Tables    []planner.TableChange    `json:"tables"`
	Sequences []planner.SequenceChange `json:"sequences"`
	Blockers  []planner.Finding        `json:"blockers"`
	Warnings  []planner.Finding        `json:"warnings"`
	Estimates planner.Estimates        `json:"estimates"`
	Steps     int                      `json:"steps"`
}

// PhaseResult is one phase as it ran.
type PhaseResult struct {
	Name      string    `json:"name"`
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"duration_s"`
	OK        bool      `json:"ok"`
	Error     string    `json:"error,omitempty"`
	// WALBytes is the WAL the whole server wrote during the phase (nil
	// when unavailable, e.g. on a standby).
	WALBytes *int64 `json:"wal_bytes"`
	// Sizes are the closure's tables after the phase.
	Sizes      []TableSize `json:"sizes_after"`
	TotalBytes int64       `json:"total_bytes_after"`
	// Steps are the non-batched steps the phase ran, with their locks.
	Steps []StepTiming `json:"steps"`
}

// WalkSummary is a batched walk over the tables: the backfill's copy or a
// verification.
type WalkSummary struct {
	Rows   int64 `json:"rows"`
	Copied int64 `json:"copied"`
	// Seconds is the phase's duration; RowsPerS is Rows over it.
	Seconds  float64     `json:"seconds"`
	RowsPerS float64     `json:"rows_per_s"`
	Tables   []WalkTable `json:"tables"`
}

// WalkTable is one table's (or leaf partition's) walk.
type WalkTable struct {
	Step     string  `json:"step"`
	Table    string  `json:"table"`
	Rows     int64   `json:"rows"`
	Copied   int64   `json:"copied"`
	Batches  int     `json:"batches"`
	Seconds  float64 `json:"seconds"`
	RowsPerS float64 `json:"rows_per_s"`
	Done     bool    `json:"done"`
}

// Verification is the cutover's verification and, after a rollback
// following the swap, the swap back's check that every value fits.
type Verification struct {
	Passed bool        `json:"passed"`
	Detail string      `json:"detail"`
	Walk   WalkSummary `json:"walk"`
	// RollbackFits is the swap back's check (nil when there was none).
	RollbackFits *WalkSummary `json:"rollback_fits,omitempty"`
}

// Locks are the locks that block the application's writes.
type Locks struct {
	// Swap and SwapBack come from the migrator: attempts, and the
	// duration of the successful transaction.
	Swap     *Swap `json:"swap"`
	SwapBack *Swap `json:"swap_back"`
	// Longest is, per lock mode that blocks writes, the longest step.
	Longest []StepTiming `json:"longest"`
	// Steps lists every step that took such a lock.
	Steps []StepTiming `json:"steps"`
}

// Disk is the closure's size through the rehearsal.
type Disk struct {
	Before      []TableSize `json:"before"`
	BeforeBytes int64       `json:"before_bytes"`
	PeakBytes   int64       `json:"peak_bytes"`
	PeakAfter   string      `json:"peak_after"`
	// ExtraBytes is the peak over the start; PlanEstimate is the plan's
	// upper bound for comparison.
	ExtraBytes   int64 `json:"extra_bytes"`
	PlanEstimate int64 `json:"plan_estimate_bytes"`
}

// Production is the database the extrapolation read.
type Production struct {
	Database      string      `json:"database"`
	ServerVersion int         `json:"server_version"`
	Sizes         []TableSize `json:"sizes"`
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

package planner

import (
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// Phase names a phase of the migration.
type Phase string

// The phases, in the order an operator runs them; rollback may replace
// cutover and cleanup at any point before cleanup.
const (
	Prepare  Phase = "prepare"
	Backfill Phase = "backfill"
	Cutover  Phase = "cutover"
	Cleanup  Phase = "cleanup"
	Rollback Phase = "rollback"
	// Unswap steps run before the rollback steps when a rollback comes
	// after the swap: they swap the old columns back in.
	Unswap Phase = "unswap"
	// Unguard steps run only when the swap back is refused: they lift the
	// guard the swap back put on the sync triggers.
	Unguard Phase = "unguard"
)

// LockMode is the table lock a statement takes, as PostgreSQL names it.
type LockMode string

// The lock modes pgwiden's statements take.
const (
	NoLock               LockMode = "none"
	AccessShare          LockMode = "ACCESS SHARE"
	RowExclusive         LockMode = "ROW EXCLUSIVE"
	ShareUpdateExclusive LockMode = "SHARE UPDATE EXCLUSIVE"
	Share                LockMode = "SHARE"
	ShareRowExclusive    LockMode = "SHARE ROW EXCLUSIVE"
	AccessExclusive      LockMode = "ACCESS EXCLUSIVE"
)

// Step is one statement (or one transaction's script) of the plan. It holds
// no connection: the migrator executes it, `plan` and `--dry-run` print it.
type Step struct {
	// ID is stable across runs, e.g. "prepare/add-shadow/public.tags", so
	// progress can be recorded per step and re-runs skip what is done.
	ID    string        `json:"id"`
	Phase Phase         `json:"phase"`
	Table catalog.QName `json:"table"`
	// SQL is fully quoted; values go in Args, never in the text. A batched
	// step takes its bounds as $1.. parameters.
	SQL  string   `json:"sql"`
	Args []any    `json:"args,omitempty"`
	Lock LockMode `json:"lock"`
	// InTx is false for statements that cannot run in a transaction block
	// (CREATE/DROP INDEX CONCURRENTLY).
	InTx bool `json:"in_tx"`
	// Scan is set for a statement that runs a query over whole tables
	// and locks only an object of its own (REFRESH of a materialized
	// view): it runs without statement_timeout.
	Scan bool `json:"scan,omitempty"`
	// EachStatement runs the statements of SQL one by one in the step's
	// transaction rather than as one query string: Citus refuses a query
	// string holding several statements it propagates to the shards
	// ("cannot execute multiple utility events").
	EachStatement bool `json:"each_statement,omitempty"`
	// Batch is set for steps that run repeatedly over key ranges
	// (backfill, verify); SQL then shows Batch.Next.
	Batch *Batch `json:"batch,omitempty"`
	// Probe is a read-only query returning one boolean: true when the step's
	// effect is already in place, which makes re-runs no-ops.
	Probe     string `json:"probe,omitempty"`
	ProbeArgs []any  `json:"probe_args,omitempty"`
	// Note says in one line why the step is there or what it costs.
	Note string `json:"note,omitempty"`
	// During, when set, is the ID of the step that runs this one: between
	// the batches of its walk (a VACUUM, every --vacuum-every batches) or
	// before each attempt of it when Probe says it is needed (dropping the
	// INVALID index an interrupted build left). Such a step never runs on
	// its own and is never recorded as done.
	During string `json:"during,omitempty"`
}

// Batch holds the statements of a batched step. The backfill walks the
// table in key order (keyset pagination, never OFFSET over the table) up
// to a stop key, the table's Last key when the walk begins: rows beyond it
// were written with the sync trigger in place. NextBound finds, from the
// previous batch's last key and the stop key, the last key of the next
// batch and its row count; Next then works on the rows in (previous,
// last]. The First* forms start from the beginning of the table.
type Batch struct {
	Key []string `json:"key"`
	// Walk is WalkCtidRange or WalkCtidList for a walk by physical position
	// (Key is then "ctid" and the bounds are page numbers); empty for a
	// keyset walk.
	Walk string `json:"walk,omitempty"`
	// Estimate is the table's row count from statistics, for progress.
	Estimate int64 `json:"estimate"`
	// Last reads the table's last key, where a walk that begins now stops.
	Last       string `json:"last"`
	FirstBound string `json:"first_bound"`
	NextBound  string `json:"next_bound"`
	First      string `json:"first"`
	Next       string `json:"next"`
	// FirstPass and NextPass are First and Next restricted to one of
	// several interleaved passes over the batch's rows, by the row's slot
	// on its page: their two last parameters are the number of passes and
	// the pass. Only for the backfill's copy (see passPredicate).
	FirstPass string `json:"first_pass,omitempty"`
	NextPass  string `json:"next_pass,omitempty"`
	// Lowest reads the smallest value of the key's first column (as
	// bigint), and SliceBound the last key (as text) whose first column is
	// at most $1: with --workers, a key walk splits [Lowest, Last] in
	// slices of equal width on that column, each one bounded by a real key.
	// Empty for a walk by ctid, which slices its range of pages without a
	// query, and for a key whose first column is not an integer: NoSlices
	// then says why that walk runs as one slice.
	Lowest     string `json:"lowest,omitempty"`
	SliceBound string `json:"slice_bound,omitempty"`
	NoSlices   string `json:"no_slices,omitempty"`
}

// Unit says what one batch covers, for plan and --dry-run.
func (b *Batch) Unit() string {
	if b.Walk != "" {
		return "range of pages (ctid)"
	}
	return "batch of keys (" + strings.Join(b.Key, ", ") + ")"
}

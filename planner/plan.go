package planner

import "github.com/pgwiden/pgwiden/catalog"

// FormatVersion is the version of the JSON plan format. Later phases read
// plans written by `plan --out`; bump it on any incompatible change.
const FormatVersion = 1

// Plan is everything pgwiden will do to widen one target column.
type Plan struct {
	FormatVersion int    `json:"format_version"`
	Target        Target `json:"target"`
	// NothingToDo is set when the target is already bigint; Reason says so.
	NothingToDo bool   `json:"nothing_to_do,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Citus is the citus extension's version, "" without it.
	Citus string `json:"citus,omitempty"`

	// Tables lists every table of the closure, parents before children, so
	// locks are always taken in this order.
	Tables    []TableChange    `json:"tables"`
	Sequences []SequenceChange `json:"sequences,omitempty"`
	Blockers  []Finding        `json:"blockers"`
	Warnings  []Finding        `json:"warnings"`
	Estimates Estimates        `json:"estimates"`
	Steps     []Step           `json:"steps"`
	// Carried lists what hangs on the closure columns and moves to the
	// new columns (carry.go), each with its statement.
	Carried []Carry `json:"carried,omitempty"`
}

// TableChange is one table of the closure and its columns to widen.
type TableChange struct {
	Table   catalog.QName  `json:"table"`
	Columns []ColumnChange `json:"columns"`
	// BatchKey is the unique, NOT NULL key the backfill walks (keyset).
	BatchKey []string `json:"batch_key,omitempty"`
	// Walks says how the backfill and the verifications go through each
	// table that holds rows (the table itself, or its leaf partitions).
	Walks []Walk `json:"walks,omitempty"`
	// Partitioned tables are changed through their parent; their leaf
	// partitions are backfilled one by one. Leaves also lists, for a
	// parent in classic inheritance, the parent and every table that
	// inherits from it: each holds rows of its own.
	Partitioned bool            `json:"partitioned,omitempty"`
	Leaves      []catalog.QName `json:"leaves,omitempty"`
	// Citus is the table's place in a Citus cluster, nil for a local table.
	Citus *catalog.CitusTable `json:"citus,omitempty"`
	// CitusAction says what pgwiden does with the table in a database
	// with the citus extension; "" without it.
	CitusAction string  `json:"citus_action,omitempty"`
	Rows        float64 `json:"rows"`
	Bytes       int64   `json:"bytes"`
}

// ColumnChange is one column of the closure.
type ColumnChange struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	// Shadow is the bigint column added by prepare; Old is the name the
	// current column takes at cutover until cleanup drops it.
	Shadow string `json:"shadow"`
	Old    string `json:"old"`
	// Why the column is in the closure: "target" or the FK that pulls it in.
	Why string `json:"why"`
}

// SequenceChange is a sequence that feeds a closure column and is typed
// narrower than bigint: a serial's sequence stops at 2147483647 by itself.
type SequenceChange struct {
	Sequence catalog.QName     `json:"sequence"`
	From     string            `json:"from"`
	Feeds    catalog.ColumnRef `json:"feeds"`
	Identity bool              `json:"identity,omitempty"`
	// ReplacedBy is set for a sequence Citus propagates, which cannot be
	// altered: the column's default moves to this new bigint sequence in
	// the swap.
	ReplacedBy *catalog.QName `json:"replaced_by,omitempty"`
}

// Finding is a blocker (the migration cannot run until it is fixed) or a
// warning (it can, but the operator should know).
type Finding struct {
	Code   string `json:"code"`
	Object string `json:"object"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Estimates are rough sizes from catalog statistics (never a table scan).
type Estimates struct {
	Rows float64 `json:"rows"`
	// TableBytes and IndexBytes are the current sizes of the closure.
	TableBytes int64 `json:"table_bytes"`
	IndexBytes int64 `json:"index_bytes"`
	// ExtraBytes is an upper bound of the extra disk the migration needs
	// until cleanup and vacuum: one dead version of every row rewritten by
	// the backfill, an entry per row in every index of the tables, the new
	// indexes and the 8-byte shadow values.
	ExtraBytes int64 `json:"extra_bytes"`
}

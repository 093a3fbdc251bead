package catalog

// The Citus kinds of a table (CitusTable.Kind).
const (
	// CitusDistributed is hash-, range- or append-distributed by a column.
	CitusDistributed = "distributed"
	// CitusSingleShard is distributed without a distribution column (one
	// shard, e.g. schema-based sharding).
	CitusSingleShard = "single-shard"
	// CitusReference is replicated whole to every node.
	CitusReference = "reference"
	// CitusLocal is a coordinator-local table added to Citus's metadata
	// (e.g. to hold a foreign key to a reference table).
	CitusLocal = "citus-local"
)

// CitusTable is a table's place in a Citus cluster, from pg_dist_partition.
// A table of a database with the citus extension that has none is local.
type CitusTable struct {
	// Kind is one of the Citus* constants above.
	Kind string `json:"kind"`
	// Method is pg_dist_partition.partmethod: h (hash), r (range),
	// a (append) or n (none: reference, single-shard, Citus local).
	Method string `json:"method"`
	// DistributionColumn is the column rows are placed by, "" when none.
	DistributionColumn string `json:"distribution_column,omitempty"`
	// ColocationID is the colocation group: its tables have their shards
	// on the same nodes and must keep the same distribution column type.
	ColocationID int `json:"colocation_id"`
	// ColocationType is the distribution column type the group declares.
	ColocationType string `json:"colocation_type,omitempty"`
	ShardCount     int    `json:"shard_count"`
}

package catalog

import "fmt"

// MinServerVersion is the oldest server_version_num pgwiden supports. The
// version matrix (make test-matrix, docs/versions.md) proves 12 to 18;
// older servers lack what the plan relies on (stored generated columns,
// pg_partition_tree, REINDEX CONCURRENTLY).
const MinServerVersion = 120000

// Version facts the planner branches on, as server_version_num thresholds.
const (
	// RowTriggersOnPartitionedVersion is the first version that accepts a
	// BEFORE ROW trigger on a partitioned table (13): before it, the sync
	// trigger goes on each leaf partition.
	RowTriggersOnPartitionedVersion = 130000
)

// CheckServerVersion refuses a server older than MinServerVersion, naming
// the version found (server_version_num, e.g. 110022 is 11.22).
func CheckServerVersion(num int) error {
	if num >= MinServerVersion {
		return nil
	}
	return fmt.Errorf("PostgreSQL %s (server_version_num %d) is not supported: pgwiden needs PostgreSQL 12 or later; upgrade the server first",
		VersionString(num), num)
}

// VersionString renders a server_version_num as PostgreSQL prints it:
// 120022 is "12.22", 90624 is "9.6.24".
func VersionString(num int) string {
	if num < 100000 {
		return fmt.Sprintf("%d.%d.%d", num/10000, num/100%100, num%100)
	}
	return fmt.Sprintf("%d.%d", num/10000, num%10000)
}

// RowTriggersOnPartitioned reports whether the server takes a BEFORE ROW
// trigger on a partitioned table itself.
func (s *Snapshot) RowTriggersOnPartitioned() bool {
	return s.ServerVersion >= RowTriggersOnPartitionedVersion
}

package migrator

import (
	"context"
)

// compressWALExpr turns on wal_compression for the batch's transaction,
// unless the server already compresses (an lz4 or zstd setting is kept):
// one column of the batch's settings query (batchSettings).
const compressWALExpr = "CASE WHEN current_setting('wal_compression') = 'off' THEN set_config('wal_compression', 'on', true) END"

// walCompressible reports whether this session may set wal_compression
// (Config.CompressWAL): a superuser may, and on PostgreSQL 15 and later a
// role granted SET on the parameter. Otherwise the batches run without it,
// and the log says how to allow it.
func (r *run) walCompressible(ctx context.Context) bool {
	if !r.m.cfg.CompressWAL {
		return false
	}
	var ok bool
	var version int
	err := r.m.pool.QueryRow(ctx, `SELECT rolsuper, current_setting('server_version_num')::int FROM pg_roles WHERE rolname = current_user`).Scan(&ok, &version)
	if err == nil && !ok && version >= 150000 {
		// has_parameter_privilege does not exist before 15: a separate query.
		err = r.m.pool.QueryRow(ctx, "SELECT has_parameter_privilege('wal_compression', 'SET')").Scan(&ok)
	}
	if err != nil || !ok {
		r.log.Info().AnErr("error", err).Msg("this role cannot set wal_compression: the backfill's full-page images are not compressed " +
			"(run as a superuser or, on PostgreSQL 15+, GRANT SET ON PARAMETER wal_compression TO the role; --wal-compression=false silences this)")
		return false
	}
	return true
}

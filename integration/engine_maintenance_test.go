package integration

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestEngineMaintenanceSettings: the cutover's index builds run with
// Config.MaintenanceWorkMem and MaintenanceWorkers on their session. An
// event trigger records the settings each CREATE INDEX that scans a table
// ran with. The memory is a floor: a database whose own setting is larger
// keeps it.
func TestEngineMaintenanceSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, dbSetting, want string
	}{
		{"raised to the flag", "", "300MB"},
		{"a larger setting kept", "1GB", "1GB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, saasSchema)
			if tc.dbSetting != "" {
				db.Exec(t, "ALTER DATABASE "+pgx.Identifier{db.Name}.Sanitize()+" SET maintenance_work_mem = '"+tc.dbSetting+"'")
			}
			db.Exec(t, `CREATE TABLE build_settings (mem text, workers text, q text DEFAULT current_query());
				CREATE FUNCTION log_build() RETURNS event_trigger LANGUAGE plpgsql AS $$
				BEGIN
					INSERT INTO build_settings (mem, workers) VALUES (current_setting('maintenance_work_mem'), current_setting('max_parallel_maintenance_workers'));
				END $$;
				CREATE EVENT TRIGGER log_build ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION log_build();`)
			cfg := engineConfig()
			cfg.MaintenanceWorkMem, cfg.MaintenanceWorkers = 300<<20, 0
			newEngine(t, db, cfg, noHooks).run(t, ctx, "prepare", "backfill", "cutover")

			// The cutover's builds; ON ONLY a partitioned parent is catalog
			// only, in a transaction.
			rows, err := db.Pool.Query(ctx, "SELECT mem, workers, count(*), min(q) FROM build_settings WHERE q LIKE '/* pgwiden cutover/%' AND q NOT LIKE '% ON ONLY %' GROUP BY 1, 2")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			groups := 0
			for rows.Next() {
				var mem, workers string
				var n int
				var q string
				if err := rows.Scan(&mem, &workers, &n, &q); err != nil {
					t.Fatal(err)
				}
				groups++
				t.Logf("%d index build(s) with maintenance_work_mem %s, max_parallel_maintenance_workers %s", n, mem, workers)
				if mem != tc.want || workers != "0" {
					t.Errorf("%d index build(s) ran with maintenance_work_mem %s and max_parallel_maintenance_workers %s, want %s and 0: %s", n, mem, workers, tc.want, q)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if groups == 0 {
				t.Fatal("no index build recorded: does the event trigger fire for CREATE INDEX CONCURRENTLY?")
			}
		})
	}
}

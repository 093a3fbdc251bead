package main

import (
	"context"
	"embed"
	"fmt"
	"math"
)

// sqlFiles hold the demo's schema and data, kept as SQL so that they read
// as what an application's migrations would contain.
//
//go:embed *.sql
var sqlFiles embed.FS

// sqlStep runs one embedded SQL file in the demo database.
func sqlStep(title, file string) step {
	return step{
		header: "==> " + title,
		run: func(ctx context.Context, d *demo) error {
			sql, err := sqlFiles.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read embedded %s: %w", file, err)
			}
			// The simple protocol, unlike the extended one, runs several
			// statements in one string.
			if _, err := d.conn.PgConn().Exec(ctx, string(sql)).ReadAll(); err != nil {
				return fmt.Errorf("run %s in database %s: %w", file, demoDB, err)
			}
			return nil
		},
	}
}

// showHeadroom prints how far tags_id_seq is from int4's limit.
func showHeadroom(ctx context.Context, d *demo) error {
	var last int64
	if err := d.conn.QueryRow(ctx, "SELECT last_value FROM tags_id_seq").Scan(&last); err != nil {
		return fmt.Errorf("read sequence tags_id_seq: %w", err)
	}
	const limit = math.MaxInt32
	fmt.Fprintf(d.stdout, "tags_id_seq is at %d of %d (%.1f%%): %d ids left before every INSERT INTO tags fails\n",
		last, limit, 100*float64(last)/limit, limit-last)
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/internal/format"
	"github.com/pgwiden/pgwiden/internal/load"
)

// writer plays the application during the migration: on its own
// connection it inserts tags and taggings and updates tags twenty times a
// second, through internal/load, which counts every error it meets and the
// slowest write. The migration is online if that error count stays zero.
type writer struct {
	conn   *pgx.Conn
	runner *load.Runner

	inserts, updates atomic.Int64
	// replans counts writes retried after "cached plan must not change
	// result type": the swap changes what a prepared INSERT ... RETURNING
	// id returns, pgx drops the statement, and one retry succeeds. An
	// application must do the same (see pgwiden plan's warnings).
	replans atomic.Int64
	n       int // the writes so far; the load's one worker alone uses it
}

// startWriter begins writing until stop is called.
func startWriter(ctx context.Context, dsn string) (*writer, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("writer: connect: %w", err)
	}
	w := &writer{conn: conn}
	w.runner = load.Start(ctx, []load.Spec{{Name: "writer", Rate: 20, Workers: 1, Op: w.op}}, "migration")
	return w, nil
}

// op is one write, retried once after the swap made pgx's prepared
// statement stale.
func (w *writer) op(ctx context.Context, _ int, _ *rand.Rand) error {
	w.n++
	err := w.write(ctx, w.conn, w.n)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "0A000" {
		w.replans.Add(1)
		err = w.write(ctx, w.conn, w.n)
	}
	return err
}

// write is one application transaction: a new tag with a tagging, or an
// update of a recent tag (which fires its updated_at trigger).
func (w *writer) write(ctx context.Context, conn *pgx.Conn, n int) error {
	if n%3 == 2 {
		_, err := conn.Exec(ctx, `UPDATE tags SET color = '#'||lpad(to_hex($1::int % 4096), 6, '0')
			WHERE id = (SELECT max(id) FROM tags)`, n)
		if err == nil {
			w.updates.Add(1)
		}
		return err
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO tags (name) VALUES ('live-'||$1::int||'-'||clock_timestamp()::text) RETURNING id`, n).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO taggings (tag_id, account_id, taggable_type, taggable_id)
			VALUES ($1, (SELECT min(id) FROM accounts), 'Post', $2)`, id, n)
		if err == nil {
			w.inserts.Add(1)
		}
		return err
	})
}

// stop ends the writer and returns a one-line account of what it did, and
// its error count.
func (w *writer) stop() (string, int64) {
	rep := w.runner.Stop()[0]
	_ = w.conn.Close(context.Background()) // the writer is done: its close error changes nothing
	_, errs, slowest, first := rep.Totals()
	s := fmt.Sprintf("the writer made %d inserts and %d updates during the migration, slowest %s, errors %d, "+
		"statements prepared again after the swap %d",
		w.inserts.Load(), w.updates.Load(), format.Duration(slowest), errs, w.replans.Load())
	if first != "" {
		s += " (first: " + first + ")"
	}
	return s, errs
}

func startApp(ctx context.Context, d *demo) error {
	w, err := startWriter(ctx, d.dsn)
	if err != nil {
		return err
	}
	d.writer = w
	return nil
}

// stopApp stops the writer and fails the demo if it met any error: the
// migration is only online if the application never noticed it.
func stopApp(_ context.Context, d *demo) error {
	w := d.writer
	d.writer = nil
	line, n := w.stop()
	fmt.Fprintln(d.stdout, line)
	if n > 0 {
		d.surprises = append(d.surprises, fmt.Sprintf("the writer met %d errors", n))
	}
	return nil
}

// pastInt4 moves the sequence to the old limit and inserts: the new ids
// no longer fit an int4, and the insert and its tagging go through.
func pastInt4(ctx context.Context, d *demo) error {
	var typ string
	var id int64
	err := d.conn.QueryRow(ctx, `SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'tags'::regclass AND attname = 'id'`).Scan(&typ)
	if err == nil {
		_, err = d.conn.Exec(ctx, "SELECT setval('tags_id_seq', 2147483647)")
	}
	if err == nil {
		err = d.conn.QueryRow(ctx, "INSERT INTO tags (name) VALUES ('the first id past int4') RETURNING id").Scan(&id)
	}
	if err == nil {
		_, err = d.conn.Exec(ctx, `INSERT INTO taggings (tag_id, account_id, taggable_type, taggable_id) VALUES ($1, (SELECT min(id) FROM accounts), 'Post', 1)`, id)
	}
	if err != nil {
		return fmt.Errorf("insert past int4: %w", err)
	}
	fmt.Fprintf(d.stdout, "tags.id is %s; inserted tag %d and a tagging that references it\n", typ, id)
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// writer plays the application during the migration: it inserts tags and
// taggings and updates tags a few times a second on its own connection,
// and counts what it did and every error it met. The migration is online
// if that error count stays zero.
type writer struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	inserts, updates, errs atomic.Int64
	// replans counts writes retried after "cached plan must not change
	// result type": the swap changes what a prepared INSERT ... RETURNING
	// id returns, pgx drops the statement, and one retry succeeds. An
	// application must do the same (see pgwiden plan's warnings).
	replans  atomic.Int64
	worst    atomic.Int64 // slowest write, in microseconds
	firstErr atomic.Value
}

// startWriter begins writing until stop is called.
func startWriter(ctx context.Context, dsn string) (*writer, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("writer: connect: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer conn.Close(context.Background())
		w.loop(ctx, conn)
	}()
	return w, nil
}

func (w *writer) loop(ctx context.Context, conn *pgx.Conn) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		err := w.write(ctx, conn, n)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "0A000" {
			w.replans.Add(1)
			err = w.write(ctx, conn, n)
		}
		if us := time.Since(start).Microseconds(); us > w.worst.Load() {
			w.worst.Store(us)
		}
		if err != nil && ctx.Err() == nil {
			w.errs.Add(1)
			w.firstErr.CompareAndSwap(nil, err.Error())
		}
	}
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

// stop ends the writer and returns a one-line account of what it did.
func (w *writer) stop() string {
	w.cancel()
	w.wg.Wait()
	s := fmt.Sprintf("the writer made %d inserts and %d updates during the migration, slowest %s, errors %d, "+
		"statements prepared again after the swap %d",
		w.inserts.Load(), w.updates.Load(), time.Duration(w.worst.Load())*time.Microsecond, w.errs.Load(), w.replans.Load())
	if e, ok := w.firstErr.Load().(string); ok {
		s += " (first: " + e + ")"
	}
	return s
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
	fmt.Fprintln(d.stdout, w.stop())
	if n := w.errs.Load(); n > 0 {
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

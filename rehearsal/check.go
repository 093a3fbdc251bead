package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

// checkStaging applies the operator's rule. The query runs in a
// read-only transaction, so a check that writes fails instead.
func (r *Rehearsal) checkStaging(ctx context.Context) error {
	q := strings.TrimSpace(r.cfg.StagingCheck)
	if q == "" {
		if !r.cfg.AssumeStaging {
			return &RefusedError{Reason: "rehearse writes to the database it runs on: pass --staging-check 'SELECT ...' " +
				"(a query that returns true only on staging, e.g. SELECT current_database() LIKE '%staging%') or --i-know-this-is-staging"}
		}
		r.rep.StagingCheck = "not checked: --i-know-this-is-staging"
		return nil
	}
	var db, timeout string
	var ok *bool
	err := pgx.BeginTxFunc(ctx, r.d.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT current_database(), set_config('statement_timeout', '30s', true)").Scan(&db, &timeout); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return errors.New("it returned no row: it must return one row of one boolean column")
		}
		if len(rows.FieldDescriptions()) != 1 {
			return errors.New("it must return one row of one boolean column")
		}
		if err := rows.Scan(&ok); err != nil {
			return fmt.Errorf("it must return one boolean column: %w", err)
		}
		if rows.Next() {
			return errors.New("it returned more than one row: it must return one row of one boolean column")
		}
		return rows.Err()
	})
	switch {
	case err != nil:
		return &RefusedError{Reason: fmt.Sprintf("--staging-check failed on database %q: %v; nothing was written", db, err)}
	case ok == nil || !*ok:
		return &RefusedError{Reason: fmt.Sprintf("--staging-check returned %s on database %q: by your rule this is not staging; nothing was written", boolText(ok), db)}
	}
	r.rep.StagingCheck = fmt.Sprintf("%s returned true on database %q", q, db)
	return nil
}

func boolText(b *bool) string {
	if b == nil {
		return "NULL"
	}
	return fmt.Sprint(*b)
}

// planStaging plans the target from the live catalog, as prepare will,
// and refuses a plan with blockers or nothing to do.
func (r *Rehearsal) planStaging(ctx context.Context) error {
	snap, err := catalog.Load(ctx, r.d.Pool, nil)
	if err != nil {
		return fmt.Errorf("read catalog: %w", err)
	}
	p, err := planner.Build(snap, r.cfg.Target)
	if err != nil {
		return err
	}
	var text strings.Builder
	if err := planner.WriteText(&text, p); err != nil {
		return err
	}
	switch {
	case len(p.Blockers) > 0:
		return &migrator.BlockerError{Target: r.cfg.Target, Blockers: p.Blockers}
	case p.NothingToDo:
		return &RefusedError{Reason: fmt.Sprintf("%s: nothing to rehearse: %s", r.cfg.Target, p.Reason)}
	}
	r.snap, r.plan, r.closure = snap, p, closureOf(p)
	r.rep.Database, r.rep.ServerVersion, r.rep.PlanText = snap.Database, snap.ServerVersion, text.String()
	r.rep.Plan = PlanInfo{Target: p.Target, Tables: p.Tables, Sequences: p.Sequences, Blockers: p.Blockers, Warnings: p.Warnings,
		Estimates: p.Estimates, Steps: len(p.Steps)}
	return nil
}

// checkIdle refuses a target with a migration in progress: a rehearsal
// starts from scratch and ends by undoing its own migration, never
// someone else's.
func (r *Rehearsal) checkIdle(ctx context.Context) error {
	job, err := r.d.Store.Peek(ctx, r.cfg.Target)
	if err != nil || job == nil {
		return err
	}
	return &RefusedError{Reason: fmt.Sprintf("migration %d of %s is in progress on this database (%s): finish it or run pgwiden rollback before rehearsing",
		job.ID, r.cfg.Target, job.Phase)}
}

// readProduction reads production's statistics for the closure's tables:
// catalog figures only, on the caller's read-only session.
func (r *Rehearsal) readProduction(ctx context.Context) error {
	pp := r.d.Production
	if pp == nil {
		return nil
	}
	prod := &Production{}
	var readOnly string
	err := pp.QueryRow(ctx, "SELECT current_database(), current_setting('server_version_num')::int, current_setting('default_transaction_read_only')").
		Scan(&prod.Database, &prod.ServerVersion, &readOnly)
	if err != nil {
		return fmt.Errorf("production: %w", err)
	}
	if readOnly != "on" {
		return &RefusedError{Reason: "the production session is not read-only (default_transaction_read_only is off): refusing to read production through it"}
	}
	if same, err := sameDatabase(ctx, r.d.Pool, pp); err != nil {
		r.note("could not tell whether --production-dsn is another server than staging: %v", err)
	} else if same {
		return &RefusedError{Reason: "--production-dsn points at the database being rehearsed on: give production's DSN (read-only) or use --production-rows"}
	}
	sizes, err := readSizes(ctx, pp, closureTables(r.plan))
	if err != nil {
		return fmt.Errorf("production statistics: %w", err)
	}
	found := false
	for _, s := range sizes {
		found = found || s.Found
	}
	if !found {
		return &RefusedError{Reason: fmt.Sprintf("none of the closure's tables exist in production database %q: check --production-dsn", prod.Database)}
	}
	prod.Sizes, r.prod, r.rep.Production = sizes, sizes, prod
	return nil
}

// sameDatabase compares the servers' system identifiers and the database
// names. pg_control_system may be denied to the role: then it cannot tell.
func sameDatabase(ctx context.Context, a, b *pgxpool.Pool) (bool, error) {
	const q = "SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system())::text || '/' || current_database()"
	var ida, idb string
	if err := a.QueryRow(ctx, q).Scan(&ida); err != nil {
		return false, err
	}
	if err := b.QueryRow(ctx, q).Scan(&idb); err != nil {
		return false, err
	}
	return ida == idb, nil
}

// prepareLoads gives the builtin load its key range; on an empty table it
// has nothing to touch and is dropped, with a note.
func (r *Rehearsal) prepareLoads(ctx context.Context) error {
	var keep []Load
	for _, l := range r.cfg.Loads {
		if l.builtin {
			lo, hi, ok, err := keyRange(ctx, r.d.Pool, r.cfg.Target)
			if err != nil {
				return err
			}
			if !ok {
				r.note("builtin load: %s is empty, there are no rows to touch; it did not run", r.cfg.Target.Table)
				continue
			}
			l.SQL, l.lo, l.hi = builtinSQL(r.cfg.Target), lo, hi
		}
		keep = append(keep, l)
	}
	r.cfg.Loads = keep
	return nil
}

// schemaBefore takes the "before" picture for the rollback's check.
func (r *Rehearsal) schemaBefore(ctx context.Context) error {
	d, before, check, err := newSchemaDumper(ctx, r.d.Pool, r.cfg.DSN, schemaObjects(r.plan, r.snap))
	if err != nil {
		return err
	}
	r.dumper, r.before, r.rep.SchemaCheck = d, before, check
	return nil
}

// schemaAfter compares the schema after the rollback with the picture
// taken before prepare.
func (r *Rehearsal) schemaAfter(ctx context.Context) error {
	n := len(r.rep.Phases)
	if n == 0 || r.rep.Phases[n-1].Name != "rollback" || !r.rep.Phases[n-1].OK {
		return nil // kept, or the rollback failed (already a problem)
	}
	after, err := r.dumper.dump(ctx)
	if err != nil {
		return fmt.Errorf("schema after rollback (%s): %w", r.rep.SchemaCheck.Method, err)
	}
	c := r.rep.SchemaCheck
	c.Checked, c.Identical = true, after == r.before
	if !c.Identical {
		c.Diff = firstDiff(r.before, after)
		r.problem("the schema after the rollback differs from the schema before prepare (%s)", c.Method)
	}
	return nil
}

// measureStart reads the sizes and the WAL position before prepare.
func (r *Rehearsal) measureStart(ctx context.Context) error {
	sizes, err := readSizes(ctx, r.d.Pool, closureTables(r.plan))
	if err != nil {
		return err
	}
	r.sizes0 = sizes
	if r.lsn, err = walLSN(ctx, r.d.Pool); err != nil {
		r.note("no WAL figures: %v", err)
	}
	return nil
}

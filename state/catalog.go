package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// SetCatalog records the catalog job id was planned from.
func (s *Store) SetCatalog(ctx context.Context, id int64, snap *catalog.Snapshot) error {
	doc, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("state: job %d: encode catalog: %w", id, err)
	}
	tag, err := s.pool.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.migrations SET catalog = $2 WHERE id = $1`, id, doc)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d: record catalog: %w", id, err)
	}
	return nil
}

// Catalog returns the catalog job id was planned from, nil when none was
// recorded.
func (s *Store) Catalog(ctx context.Context, id int64) (*catalog.Snapshot, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `/* pgwiden state */ SELECT catalog FROM pgwiden.migrations WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("state: job %d: read catalog: %w", id, err)
	}
	if doc == nil {
		return nil, nil
	}
	var snap catalog.Snapshot
	if err := json.Unmarshal(doc, &snap); err != nil {
		return nil, fmt.Errorf("state: job %d: decode catalog: %w", id, err)
	}
	return &snap, nil
}

// Replan records a new plan for job id with the catalog it was planned
// from, in one statement: a drift the cutover carries changes both.
func (s *Store) Replan(ctx context.Context, id int64, p *planner.Plan, snap *catalog.Snapshot) error {
	plan, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("state: job %d: encode plan: %w", id, err)
	}
	cat, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("state: job %d: encode catalog: %w", id, err)
	}
	tag, err := s.pool.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.migrations SET plan = $2, catalog = $3,
		updated_at = clock_timestamp() WHERE id = $1`, id, plan, cat)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d: record the new plan: %w", id, err)
	}
	return nil
}

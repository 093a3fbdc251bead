package migrator

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// part is what one worker of a walk takes on: the whole task (slice -1,
// checkpointed in the task itself) or one slice of it. A batch covers the
// keys after cursor (nil: from the table's start) up to bound, and the
// walk of the part ends at stop.
type part struct {
	slice        int
	cursor, stop []string
}

// parts returns what is left to walk of task: its slices not yet done
// when it has slices (sliced), the task as one part otherwise. A task
// that has not begun is split now when Config.Workers asks for more than
// one; a task already under way as one walk goes on as one, since its
// checkpoint covers one range only.
func (r *run) parts(ctx context.Context, s planner.Step, task *state.Task) ([]part, bool, error) {
	var sl []state.Slice
	var err error
	switch {
	case task.Slices > 0:
		sl, err = r.m.st.Slices(ctx, r.job.ID, s.ID)
	case r.m.cfg.Workers > 1 && task.Cursor == nil:
		sl, err = r.split(ctx, s, task.Stop)
	case r.m.cfg.Workers > 1:
		r.log.Info().Str("step", s.ID).Msg("this walk began as one slice and goes on as one: --workers applies to walks that begin")
	}
	if err != nil || sl == nil {
		return []part{{slice: -1, cursor: task.Cursor, stop: task.Stop}}, false, err
	}
	var out []part
	for _, x := range sl {
		if !x.Done {
			out = append(out, part{slice: x.Index, cursor: x.Cursor, stop: x.Stop})
		}
	}
	r.log.Info().Str("step", s.ID).Int("slices", len(sl)).Int("left", len(out)).Int("workers", min(r.m.cfg.Workers, len(out))).Msg("walk in slices")
	return out, true, nil
}

// split finds the bounds of the slices of a walk that begins, up to stop,
// and records them (state.Store.SplitTask); nil when the walk cannot be
// split and runs as one.
func (r *run) split(ctx context.Context, s planner.Step, stop []string) ([]state.Slice, error) {
	var cuts [][]string
	var err error
	if s.Batch.Walk != "" {
		cuts, err = pageCuts(stop, r.m.cfg.Workers)
	} else {
		cuts, err = r.keyCuts(ctx, s, stop)
	}
	if err != nil {
		return nil, fmt.Errorf("split the walk of %s in %d slices: %w", s.Table, r.m.cfg.Workers, err)
	}
	if len(cuts) == 0 {
		return nil, nil
	}
	return r.m.st.SplitTask(ctx, r.job.ID, s.ID, slicesOf(cuts, stop))
}

// keyCuts returns the keys that end all slices but the last of a key
// walk: for each value v that splits the first key column's range
// [lowest, stop's] in Workers ranges of equal width, the last key whose
// first column is at most v. With a key of several columns, the later
// columns keep their order within a slice. A slice ends at a real key, so
// the slices divide the key order between them whatever rows come and go.
// Each slice starts where the one before it stops, so they leave no gap
// between them even if rows deleted while these queries run made a cut
// fall below the one before it: two slices would then overlap, and rows
// in both be walked twice, which the copy (it writes only what differs)
// and the verification's refusal do not mind.
func (r *run) keyCuts(ctx context.Context, s planner.Step, stop []string) ([][]string, error) {
	if s.Batch.Lowest == "" {
		r.log.Info().Str("step", s.ID).Str("why", s.Batch.NoSlices).Msg("this walk runs as one slice")
		return nil, nil
	}
	hi, err := strconv.ParseInt(stop[0], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("read the last key %q: %w", stop[0], err)
	}
	var lo int64
	err = r.m.pool.QueryRow(ctx, tag(s.ID+" lowest", s.Batch.Lowest), pgx.QueryExecModeDescribeExec).Scan(&lo)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // emptied since the walk read its last key: nothing to split
	}
	if err != nil {
		return nil, fmt.Errorf("read the first key: %w", err)
	}
	var cuts [][]string
	for _, v := range evenCuts(lo, hi, r.m.cfg.Workers) {
		key := make([]string, len(s.Batch.Key))
		dest := make([]any, len(key))
		for i := range key {
			dest[i] = &key[i]
		}
		err := r.m.pool.QueryRow(ctx, tag(s.ID+" slice bound", s.Batch.SliceBound), pgx.QueryExecModeDescribeExec, v).Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // the rows below v were deleted meanwhile: no cut there
		}
		if err != nil {
			return nil, fmt.Errorf("find the last key up to %d: %w", v, err)
		}
		cuts = append(cuts, key)
	}
	return uniqueCuts(cuts, stop), nil
}

// pageCuts returns the pages that end all slices but the last of a walk
// by ctid over the pages [0, stop): n ranges of about equal size.
func pageCuts(stop []string, n int) ([][]string, error) {
	pages, err := strconv.ParseInt(stop[0], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("read the table's size in pages %q: %w", stop[0], err)
	}
	var cuts [][]string
	for _, p := range evenCuts(0, pages, n) {
		cuts = append(cuts, []string{strconv.FormatInt(p, 10)})
	}
	return cuts, nil
}

// evenCuts returns the values strictly between lo and hi that split
// [lo, hi] in n ranges of equal width, ascending and without repeats:
// fewer than n-1 when the range is narrower than n. It computes in 128
// bits, so that any int64 range works.
func evenCuts(lo, hi int64, n int) []int64 {
	if n < 2 || hi <= lo {
		return nil
	}
	width := uint64(hi) - uint64(lo) //nolint:gosec // G115: two's complement; hi > lo, so this is the true width, even past the int64 range
	var out []int64
	for i := 1; i < n; i++ {
		h, l := bits.Mul64(width, uint64(i))
		q, _ := bits.Div64(h, l, uint64(n)) // i < n: the quotient is below width
		v := int64(uint64(lo) + q)          //nolint:gosec // G115: lo + q is within [lo, hi)
		if v > lo && (len(out) == 0 || v > out[len(out)-1]) {
			out = append(out, v)
		}
	}
	return out
}

// uniqueCuts drops the cuts that would leave a slice empty: a repeat of
// the cut before it (no key between two values), or the walk's stop.
func uniqueCuts(cuts [][]string, stop []string) [][]string {
	var out [][]string
	for _, c := range cuts {
		if slices.Equal(c, stop) || (len(out) > 0 && slices.Equal(c, out[len(out)-1])) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// slicesOf turns the cuts into the slices they bound: the first from the
// table's start to the first cut, each next one from a cut to the next,
// the last from the last cut to stop.
func slicesOf(cuts [][]string, stop []string) []state.Slice {
	out := make([]state.Slice, 0, len(cuts)+1)
	var from []string
	for i, c := range append(slices.Clone(cuts), stop) {
		out = append(out, state.Slice{Index: i, Start: from, Stop: c})
		from = c
	}
	return out
}

// advancePart records bound as pt's checkpoint, in the batch's tx.
func (r *run) advancePart(ctx context.Context, tx pgx.Tx, s planner.Step, pt part, bound []string, rows int64) error {
	if pt.slice < 0 {
		return r.m.st.Advance(ctx, tx, r.job.ID, s.ID, bound, rows)
	}
	return r.m.st.AdvanceSlice(ctx, tx, r.job.ID, s.ID, pt.slice, bound, rows)
}

// finishPart records that pt is done, in the batch's tx.
func (r *run) finishPart(ctx context.Context, tx pgx.Tx, s planner.Step, pt part) error {
	if pt.slice < 0 {
		return r.m.st.FinishTask(ctx, tx, r.job.ID, s.ID)
	}
	return r.m.st.FinishSlice(ctx, tx, r.job.ID, s.ID, pt.slice)
}

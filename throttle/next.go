package throttle

import (
	"context"
	"strings"
	"time"
)

// readTimeout bounds one signal's Read, so that a standby that stopped
// answering cannot freeze the job: the read fails, and so holds.
const readTimeout = 10 * time.Second

// Next reads the signals that are due, decides, and waits: first, while a
// signal holds, it reads the signals again every HoldPoll until none
// holds; then whatever remains of the MaxRate wait. Each wait ends early
// with ctx's error when ctx ends.
//
// Signals are read at most every SignalEvery; between reads the last
// readings stand. A signal whose Read fails holds the job, with the error
// as its reason, until it reads again: a check the operator asked for and
// that cannot see (a standby that does not answer, a role without
// pg_monitor, a typo in the throttle query) must not let the backfill run
// blind. A stopped backfill costs time and resumes where it stopped; a
// backfill that swamps a standby nobody can see costs an outage. The
// failure is logged once, at Warn, and the hold at Info, like any hold.
//
// The returned decision describes the wait just done: Held and Reason say
// what made the job wait (a hold's reasons, or the max rate), Wait how long
// Next took. Snapshot shows the live state instead.
func (c *Controller) Next(ctx context.Context, last BatchOutcome) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return c.Snapshot(), err
	}
	start := c.clock.Now()
	rs, err := c.read(ctx, c.due(start))
	if err != nil {
		return c.Snapshot(), err
	}
	d := c.Decide(last, rs)
	c.observe(rs)
	rateDue := start.Add(d.Wait)
	out := d
	for d.Held {
		if err := sleep(ctx, c.clock, c.cfg.HoldPoll); err != nil {
			return d, err
		}
		if rs, err = c.read(ctx, true); err != nil {
			return d, err
		}
		d = Decision{Rows: d.Rows}
		if reasons := holdReasons(rs); len(reasons) > 0 {
			d.Held, d.Reason = true, strings.Join(reasons, "; ")
			out.Reason = d.Reason
		}
		c.setSnap(d)
		c.observe(rs)
	}
	if err := sleep(ctx, c.clock, rateDue.Sub(c.clock.Now())); err != nil {
		return d, err
	}
	out.Wait = c.clock.Now().Sub(start)
	return out, nil
}

// due reports whether the signals must be read before the next batch:
// never read, read SignalEvery ago or longer, or holding at the last read.
func (c *Controller) due(now time.Time) bool {
	return c.readAt.IsZero() || now.Sub(c.readAt) >= c.cfg.SignalEvery || c.holders != ""
}

// read reads every signal when due, or returns the last readings. It fails
// only when ctx ends; a signal's own failure becomes a holding reading.
func (c *Controller) read(ctx context.Context, due bool) ([]Reading, error) {
	if !due {
		return c.readings, nil
	}
	c.readAt = c.clock.Now()
	for i, s := range c.signals {
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		r, err := s.Read(rctx)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.readings[i] = c.account(s.Name(), r, err)
	}
	return c.readings, nil
}

// account turns one Read's result into the reading the decision uses, and
// logs a signal's failure when it starts and its recovery when it ends.
func (c *Controller) account(name string, r Reading, err error) Reading {
	if err != nil {
		if !c.failing[name] {
			c.failing[name] = true
			c.log.Warn().Str("signal", name).Err(err).Msg("throttle signal failed: holding until it reads again")
		}
		return Reading{Signal: name, Hold: true, Reason: name + " check failed: " + err.Error()}
	}
	if c.failing[name] {
		delete(c.failing, name)
		c.log.Info().Str("signal", name).Msg("throttle signal reads again")
	}
	if r.Signal == "" {
		r.Signal = name
	}
	return r
}

// observe logs a change of throttle state, once: held, released, or held
// by another set of signals. The state is the set of holding signals, not
// the reasons' text: "lag 12.4s" becoming "lag 12.6s" is the same hold,
// and logging it would print a line every HoldPoll.
func (c *Controller) observe(rs []Reading) {
	var names []string
	for _, r := range rs {
		if r.Hold {
			names = append(names, r.Signal)
		}
	}
	key := strings.Join(names, ",")
	if key == c.holders {
		return
	}
	now := c.clock.Now()
	switch {
	case key == "":
		c.log.Info().Float64("held_s", now.Sub(c.heldAt).Seconds()).Msg("throttle released")
	case c.holders == "":
		c.heldAt = now
		fallthrough
	default:
		c.log.Info().Strs("signals", names).Str("reason", strings.Join(holdReasons(rs), "; ")).Msg("throttle held")
	}
	c.holders = key
}

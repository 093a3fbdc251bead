package rehearsal

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

// TestRehearseCapture records the migrator's events as the report shows
// them: steps and swaps tagged with the phase, retries and warnings as
// warnings with their details.
func TestRehearseCapture(t *testing.T) {
	c := &capture{swaps: map[string]Swap{}}
	c.setPhase("prepare")
	step := planner.Step{ID: "prepare/add-shadow/public.t", Lock: planner.AccessExclusive}
	c.step(migrator.StepDone{Step: step, Attempts: 1, Took: 1500 * time.Microsecond})
	c.retry(migrator.Retry{What: "prepare/add-shadow/public.u", Attempt: 1, Wait: 200 * time.Millisecond, SQLState: "55P03", Err: errors.New("lock timeout")})
	c.setPhase("cutover")
	c.swap(migrator.SwapDone{Step: "cutover/swap", SwapStats: migrator.SwapStats{Attempts: 2, Held: 12 * time.Millisecond}})
	c.warning(migrator.Warning{Step: "cutover/analyze", Object: "public.t", Err: errors.New("canceled"), Message: "analyze after cutover failed; run ANALYZE yourself"})
	c.setPhase("rollback")
	c.swap(migrator.SwapDone{Step: "unswap/swap", Back: true, SwapStats: migrator.SwapStats{Attempts: 1, Held: 3 * time.Millisecond}})

	steps := c.Steps()
	if len(steps) != 1 || steps[0] != (StepTiming{Phase: "prepare", Step: "prepare/add-shadow/public.t", Lock: "ACCESS EXCLUSIVE", TookMS: 1.5}) {
		t.Errorf("steps %+v", steps)
	}
	if sw, ok := c.Swap("swap"); !ok || sw != (Swap{Attempts: 2, HeldMS: 12}) {
		t.Errorf("swap %+v %v", sw, ok)
	}
	if sb, ok := c.Swap("swap back"); !ok || sb.Attempts != 1 {
		t.Errorf("swap back %+v %v", sb, ok)
	}
	ws := c.Warnings()
	want := []Warning{
		{Phase: "prepare", Source: "log", Level: "warn", Message: "retry", Detail: "what=prepare/add-shadow/public.u attempt=1 wait=200ms sqlstate=55P03 error=lock timeout"},
		{Phase: "cutover", Source: "log", Level: "warn", Message: "analyze after cutover failed; run ANALYZE yourself", Detail: "step=cutover/analyze object=public.t error=canceled"},
	}
	if !slices.Equal(ws, want) {
		t.Errorf("warnings\n%+v\nwant\n%+v", ws, want)
	}
}

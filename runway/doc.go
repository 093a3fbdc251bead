// Package runway buys time for an int4/int2 key that is about to run out:
// it moves the sequence (or identity) feeding the column into the unused
// negative half of the column's range, about two billion more ids for an
// integer column, in one metadata-only ALTER SEQUENCE. It is a stopgap
// while the real migration (prepare, backfill, cutover) runs, and it is
// dangerous: new ids sort before every old one.
//
// The work is split like the rest of pgwiden:
//
//   - Plan and PlanUndo (plan.go, undo.go) are pure: from a
//     *catalog.Snapshot they decide whether the runway can be taken and
//     render the one planner.Step that takes (or gives back) it, refusing
//     with a *RefusedError that names the object and the fix;
//   - Evaluate (evaluate.go) asks the server whether the CHECK constraints
//     on the columns that receive the new ids, and the column's domain,
//     accept negative values: it evaluates them, it does not guess from
//     their text;
//   - WriteText (render.go) prints what changes and the dangers.
//
// The migrator executes the step (migrator.RunStep) under lock_timeout with
// the engine's retry policy. The cutover's swap gives the sequence back its
// positive, ascending values above the largest key, as bigint (planner,
// steps_swap_runway.go), so a runway needs no undo once the column is
// widened.
//
// Import rules: runway imports catalog, planner (Step, Build) and pgx. It
// never imports urfave/cli or migrator.
package runway

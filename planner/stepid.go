package planner

import "strings"

// StepID is a step's stable ID, "<phase>/<kind>/<object>": for example
// "backfill/copy/public.tags" or "cutover/index/public.tags_pkey_pgwiden_new";
// a step of which there is one per plan has no object ("cutover/swap").
// It is the one place where an ID is taken apart.
type StepID string

// NewStepID builds the ID of the step of phase p, of kind kind, on object
// (which may be empty).
func NewStepID(p Phase, kind, object string) StepID {
	id := string(p) + "/" + kind
	if object != "" {
		id += "/" + object
	}
	return StepID(id)
}

// parts splits the ID into its phase, kind and object.
func (id StepID) parts() (phase, kind, object string) {
	phase, rest, _ := strings.Cut(string(id), "/")
	kind, object, _ = strings.Cut(rest, "/")
	return phase, kind, object
}

// Phase is the phase the step belongs to.
func (id StepID) Phase() Phase {
	p, _, _ := id.parts()
	return Phase(p)
}

// Kind is what the step does: "copy", "verify", "index", "swap"...; the
// whole ID when it has no kind.
func (id StepID) Kind() string {
	_, k, _ := id.parts()
	if k == "" {
		return string(id)
	}
	return k
}

// Object is what the step works on ("public.tags"), "" for none.
func (id StepID) Object() string {
	_, _, o := id.parts()
	return o
}

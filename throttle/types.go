package throttle

import "time"

// BatchOutcome is what the job reports after each batch.
type BatchOutcome struct {
	Rows int
	Took time.Duration
	Err  error
	// Since is, when several workers share the governor (Shared), the
	// time since it let the previous batch of any of them start: the
	// max rate's wait counts from there, so that it applies to the sum of
	// the workers' rows. Zero for a single worker, whose own batch (Took)
	// is all that ran since.
	Since time.Duration
}

// Decision is what the job does next: take Rows rows after waiting Wait.
// Held is true while a signal keeps the job waiting; Reason says why in
// words an operator understands ("max rate 500 rows/s").
type Decision struct {
	Rows   int
	Wait   time.Duration
	Held   bool
	Reason string
}

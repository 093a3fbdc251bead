package throttle

import "time"

// BatchOutcome is what the job reports after each batch.
type BatchOutcome struct {
	Rows int
	Took time.Duration
	Err  error
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

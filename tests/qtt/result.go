package qtt

import (
	"fmt"
	"time"
)

// Status is a case's outcome.
type Status uint8

const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	}
	return "SKIP"
}

// Result is the outcome of one case.
type Result struct {
	Case   *Case
	Status Status
	// Reason says why a case failed or was skipped (one line).
	Reason string
	// Diff holds expected-versus-actual lines for a failure; Detail holds
	// the full listing (statements, every expected and actual record),
	// printed in verbose mode.
	Diff   []string
	Detail []string
	// Negative is set for cases that expect an error. RightStage reports
	// that the engine failed at the expected stage (statement or runtime),
	// SameMessage that its message also contains the expected text.
	Negative    bool
	RightStage  bool
	SameMessage bool
	Elapsed     time.Duration
}

func (r *Result) failf(format string, args ...any) *Result {
	r.Status = Fail
	r.Reason = fmt.Sprintf(format, args...)
	return r
}

func (r *Result) diff(format string, args ...any) {
	r.Diff = append(r.Diff, fmt.Sprintf(format, args...))
}

func (r *Result) detail(format string, args ...any) {
	r.Detail = append(r.Detail, fmt.Sprintf(format, args...))
}

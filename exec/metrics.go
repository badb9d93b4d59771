package exec

import "sync/atomic"

// Metrics are a query's counters, shared by its tasks and read by DESCRIBE
// EXTENDED, SHOW QUERIES and the metrics endpoint.
type Metrics struct {
	RecordsIn    atomic.Int64 // records consumed from source topics
	RecordsOut   atomic.Int64 // records produced to the sink
	DecodeErrors atomic.Int64 // records that could not be deserialized (skipped)
	EvalErrors   atomic.Int64 // expression errors (result NULL, as in ksqlDB)
	LateRecords  atomic.Int64 // records dropped because their window had closed
	DroppedNulls atomic.Int64 // records dropped for a NULL key where one is needed
	// UnknownTombstones counts table tombstones for a key the table never
	// had (or had deleted): there is nothing to delete, so nothing changes.
	UnknownTombstones atomic.Int64
	LastErrorText     atomic.Pointer[string]
}

// NoteError records err as the last error seen.
func (m *Metrics) NoteError(err error) {
	s := err.Error()
	m.LastErrorText.Store(&s)
}

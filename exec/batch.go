package exec

import "github.com/apache/arrow/go/v17/arrow"

// ChangeKind says what a row of a batch means (DESIGN.md decision 3).
type ChangeKind uint8

const (
	// Insert adds a row (the only kind a stream carries).
	Insert ChangeKind = iota
	// Delete removes the row with this key (a table tombstone).
	Delete
	// UpdateBefore retracts the old version of a row; it is always directly
	// followed, in the same batch, by the UpdateAfter that replaces it.
	UpdateBefore
	// UpdateAfter is the new version of a row.
	UpdateAfter
)

func (k ChangeKind) String() string {
	switch k {
	case Insert:
		return "+I"
	case Delete:
		return "-D"
	case UpdateBefore:
		return "-U"
	case UpdateAfter:
		return "+U"
	}
	return "?"
}

// Batch is a batch of changes: an Arrow record plus a change kind per row.
//
// Ownership: a Batch passed to Operator.Push is borrowed for the duration of
// the call. An operator that keeps the record past the call must Retain it
// (and Release it later). Kinds must not be modified by the receiver.
type Batch struct {
	Rec arrow.Record
	// Kinds has one entry per row, or is nil when every row is an Insert
	// (the common case for streams, which then costs nothing).
	Kinds []ChangeKind
}

// Len is the number of rows.
func (b Batch) Len() int { return int(b.Rec.NumRows()) }

// Kind returns the change kind of row i.
func (b Batch) Kind(i int) ChangeKind {
	if b.Kinds == nil {
		return Insert
	}
	return b.Kinds[i]
}

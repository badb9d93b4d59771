package sluice

import (
	"context"
	"sync"
)

// Rows is the result of a statement run with Query: a fixed table (SHOW,
// DESCRIBE, EXPLAIN, a pull query), an unending stream of changes (a push
// query, which ends when its context is cancelled, when Close is called, or
// when its LIMIT is reached), or, for a statement that returns no rows, an
// empty result whose Result says what happened.
//
// Use it like database/sql's Rows:
//
//	for rows.Next() {
//		r := rows.Row()
//		...
//	}
//	if err := rows.Err(); err != nil { ... }
//
// Rows is not safe for concurrent use, except Close, which may be called from
// any goroutine to stop a push query.
type Rows struct {
	cols   []Column
	result Result
	ch     <-chan Row
	cur    Row
	err    error
	errFn  func() error
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{}
}

// newStaticRows returns Rows over a fixed set of rows.
func newStaticRows(cols []Column, rows []Row) *Rows {
	ch := make(chan Row, len(rows))
	for _, r := range rows {
		ch <- r
	}
	close(ch)
	return &Rows{cols: cols, ch: ch, done: make(chan struct{})}
}

// newResultRows returns an empty Rows that carries a statement's Result.
func newResultRows(res Result) *Rows {
	r := newStaticRows(nil, nil)
	r.result = res
	return r
}

// newStreamRows returns Rows fed by ch. The producer closes ch when the query
// ends; errFn then reports why (nil for a normal end). cancel stops the
// producer.
func newStreamRows(cols []Column, ch <-chan Row, errFn func() error, cancel context.CancelFunc) *Rows {
	return &Rows{cols: cols, ch: ch, errFn: errFn, cancel: cancel, done: make(chan struct{})}
}

// Columns describes the result's columns; nil for a statement that returns
// no rows.
func (r *Rows) Columns() []Column { return r.cols }

// Result says what a statement that returns no rows did.
func (r *Rows) Result() Result { return r.result }

// Next advances to the next row, blocking until one arrives. It returns false
// when the result ends; Err then says whether it ended by an error.
func (r *Rows) Next() bool {
	select {
	case row, ok := <-r.ch:
		if !ok {
			if r.errFn != nil {
				r.err = r.errFn()
			}
			return false
		}
		r.cur = row
		return true
	case <-r.done:
		return false
	}
}

// Row returns the current row. The row's Values may be kept by the caller.
func (r *Rows) Row() Row { return r.cur }

// Err returns the error that ended the result, if any. A push query stopped
// by Close or by its context ends without error.
func (r *Rows) Err() error { return r.err }

// Close stops the query and releases its resources. It is safe to call more
// than once and from another goroutine.
func (r *Rows) Close() error {
	r.once.Do(func() {
		if r.cancel != nil {
			r.cancel()
		}
		close(r.done)
	})
	return nil
}

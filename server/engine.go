package server

import (
	"context"

	"github.com/sluicedb/sluice"
)

// Engine is what the server needs from an engine: a session per connection.
// Adapt turns a *sluice.Engine into one; tests use fakes.
type Engine interface {
	NewSession() Session
}

// Session runs one statement at a time for one connection. Properties set
// with SET must apply to the later statements of the same session.
type Session interface {
	Query(ctx context.Context, stmt string) (Rows, error)
}

// Rows is the result of one statement; *sluice.Rows satisfies it. Close may
// be called from another goroutine (the server does so to stop a push query
// on cancel or shutdown).
type Rows interface {
	Columns() []sluice.Column
	Result() sluice.Result
	Next() bool
	Row() sluice.Row
	Err() error
	Close() error
}

var _ Rows = (*sluice.Rows)(nil)

// Adapt returns the Engine that serves e's sessions.
func Adapt(e *sluice.Engine) Engine { return engineAdapter{e} }

type engineAdapter struct{ e *sluice.Engine }

func (a engineAdapter) NewSession() Session { return sessionAdapter{a.e.NewSession()} }

type sessionAdapter struct{ s *sluice.Session }

func (a sessionAdapter) Query(ctx context.Context, stmt string) (Rows, error) {
	rows, err := a.s.Query(ctx, stmt)
	if err != nil {
		// Returning rows here would hand the caller a non-nil interface
		// holding a nil pointer.
		return nil, err
	}
	return rows, nil
}

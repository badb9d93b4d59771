package sluice

import (
	"context"
	"errors"

	"github.com/sluicedb/sluice/sql"
)

// Error is the error type every user-facing failure carries (possibly
// wrapped): a SQLSTATE, a message, a hint and a position.
type Error = sql.Error

// ErrClosed is returned by calls on a closed Engine.
var ErrClosed = errors.New("sluice: engine closed")

// Statement is one statement of a script, as split by SplitStatements.
type Statement struct {
	Text string  // without the trailing semicolon
	Pos  sql.Pos // where it starts in the script
}

// SplitStatements splits a script into statements, respecting comments,
// quoted strings and identifiers. It fails only on unterminated quotes or
// comments.
func SplitStatements(script string) ([]Statement, error) {
	parts, err := sql.Split(script)
	if err != nil {
		return nil, err
	}
	out := make([]Statement, len(parts))
	for i, p := range parts {
		out[i] = Statement{Text: p.Text, Pos: p.At}
	}
	return out, nil
}

// Engine is an embedded sluice engine. It is safe for concurrent use.
type Engine struct {
	cfg config
	// The rest is in engine_*.go files.
	*engineState
}

// Open starts an engine: it starts the embedded broker (unless WithBrokers
// is given), opens Pebble under the data directory, replays the catalog's
// command topic, and resumes persistent queries from their committed offsets.
func Open(ctx context.Context, opts ...Option) (*Engine, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	return open(ctx, cfg)
}

// Exec runs every statement of a script in a fresh session with the engine's
// default properties and returns one Result per statement. It stops at the
// first error. Push and pull queries are not allowed here; use Query.
func (e *Engine) Exec(ctx context.Context, script string) ([]Result, error) {
	return e.NewSession().Exec(ctx, script)
}

// Query runs one statement in a fresh session and returns its rows.
func (e *Engine) Query(ctx context.Context, stmt string) (*Rows, error) {
	return e.NewSession().Query(ctx, stmt)
}

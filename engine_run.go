package sluice

import (
	"context"
	"errors"
)

// engineState is the running engine (filled in by the engine implementation).
type engineState struct{}

func open(ctx context.Context, cfg config) (*Engine, error) {
	return nil, errors.New("sluice: engine under construction")
}

// Session is a client session: the properties set with SET apply to its
// later statements. Sessions are not safe for concurrent use.
type Session struct {
	e     *Engine
	props map[string]string
}

// NewSession starts a session with the engine's default properties.
func (e *Engine) NewSession() *Session { return &Session{e: e, props: map[string]string{}} }

// Exec runs every statement of a script and returns one Result per statement.
func (s *Session) Exec(ctx context.Context, script string) ([]Result, error) {
	return nil, errors.New("sluice: engine under construction")
}

// Query runs one statement and returns its rows (see Rows).
func (s *Session) Query(ctx context.Context, stmt string) (*Rows, error) {
	return nil, errors.New("sluice: engine under construction")
}

// Properties returns the session's properties (SET values over the engine's
// defaults).
func (s *Session) Properties() map[string]string { return s.props }

// RunUntilIdle runs every persistent query, in creation order, until each
// has consumed everything currently in its source topics (see
// WithManualDrive).
func (e *Engine) RunUntilIdle(ctx context.Context) error { return errors.New("under construction") }

// Source returns the catalog entry named name (exact, already folded).
func (e *Engine) Source(name string) (*Source, bool) { return nil, false }

// Sources returns every stream and table, sorted by name.
func (e *Engine) Sources() []*Source { return nil }

// KafkaAddrs returns the seed addresses of the Kafka cluster the engine uses
// (the embedded broker's listener by default).
func (e *Engine) KafkaAddrs() []string { return nil }

// Close stops every query (committing what it processed), then the broker.
func (e *Engine) Close() error { return nil }

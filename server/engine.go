package server

import (
	"context"
	"strings"
	"sync"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
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
func Adapt(e *sluice.Engine) Engine { return engineAdapter{e: e, funcs: &funcCache{}} }

type engineAdapter struct {
	e     *sluice.Engine
	funcs *funcCache
}

// funcCache holds the function library once it was read. The library is
// compiled into the engine (there is no CREATE FUNCTION), so it cannot
// change while the process runs, and reading it costs a DESCRIBE per
// function.
type funcCache struct {
	mu    sync.Mutex
	funcs []Function // nil until read successfully
}

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

// Catalog is implemented by Engines that can describe their sources and
// functions; the Postgres-compatibility layer builds its virtual pg_catalog
// and information_schema from it (psql's \d), and parameter types are
// inferred from column types. An Engine without it shows an empty catalog.
type Catalog interface {
	Relations() []Relation
	Functions() []Function
}

// Relation is a stream or table as the catalog shows it.
type Relation struct {
	Name    string
	Table   bool // a TABLE; false for a STREAM
	Topic   string
	Columns []sluice.Column
	SQL     string // the statement that created it
}

// Function is a function of the engine's library.
type Function struct {
	Name        string
	Category    string
	Description string
	// Signatures are the overloads as DESCRIBE FUNCTION shows them:
	// "SUBSTRING(STRING, INTEGER, INTEGER) -> STRING", "CONCAT(STRING...)
	// -> STRING", "ARRAY_MAX(ARRAY<T>) -> T"; a result computed from the
	// arguments is "?".
	Signatures []string
}

func (a engineAdapter) Relations() []Relation {
	srcs := a.e.Sources()
	out := make([]Relation, 0, len(srcs))
	for _, s := range srcs {
		r := Relation{Name: s.Name, Table: s.Kind == sql.KindTable, Topic: s.Topic, SQL: s.SQL}
		for _, c := range s.Columns {
			r.Columns = append(r.Columns, sluice.Column{Name: c.Name, Type: c.Type.String(),
				Key: c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey})
		}
		out = append(out, r)
	}
	return out
}

// Functions lists the engine's functions through the public statements
// that describe the library: SHOW FUNCTIONS for the names, then DESCRIBE
// FUNCTION for each one's description and signatures. The result is kept
// (see funcCache); a failed read is not, so a later catalog query retries.
func (a engineAdapter) Functions() []Function {
	a.funcs.mu.Lock()
	defer a.funcs.mu.Unlock()
	if a.funcs.funcs != nil {
		return a.funcs.funcs
	}
	ctx := context.Background()
	sess := a.e.NewSession()
	rows, err := sess.Query(ctx, "SHOW FUNCTIONS")
	if err != nil {
		return nil
	}
	var out []Function
	for rows.Next() {
		v := rows.Row().Values
		if len(v) >= 2 {
			name, _ := v[0].(string)
			cat, _ := v[1].(string)
			out = append(out, Function{Name: name, Category: cat})
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil
	}
	for i := range out {
		if !describeFunction(ctx, sess, &out[i]) {
			return nil
		}
	}
	a.funcs.funcs = out
	return out
}

// describeFunction fills f's description and signatures from DESCRIBE
// FUNCTION's (Property, Value) rows. It reports false when the statement
// failed.
func describeFunction(ctx context.Context, sess *sluice.Session, f *Function) bool {
	// A quoted name is taken verbatim, so names that are keywords (FILTER,
	// TRANSFORM) describe as well as any other.
	rows, err := sess.Query(ctx, "DESCRIBE FUNCTION "+quoteIdent(f.Name))
	if err != nil {
		return false
	}
	defer rows.Close()
	for rows.Next() {
		v := rows.Row().Values
		if len(v) < 2 {
			continue
		}
		prop, _ := v[0].(string)
		val, _ := v[1].(string)
		switch prop {
		case "Description":
			f.Description = val
		case "Variation":
			f.Signatures = append(f.Signatures, val)
		}
	}
	return rows.Err() == nil
}

// quoteIdent quotes a name for sluice SQL, doubling embedded quotes.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

package server

import (
	"context"

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
}

// Function is a function of the engine's library.
type Function struct {
	Name     string
	Category string
}

func (a engineAdapter) Relations() []Relation {
	srcs := a.e.Sources()
	out := make([]Relation, 0, len(srcs))
	for _, s := range srcs {
		r := Relation{Name: s.Name, Table: s.Kind == sql.KindTable, Topic: s.Topic}
		for _, c := range s.Columns {
			r.Columns = append(r.Columns, sluice.Column{Name: c.Name, Type: c.Type.String(),
				Key: c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey})
		}
		out = append(out, r)
	}
	return out
}

// Functions lists the engine's functions through its SHOW FUNCTIONS, the
// one public door to the function library.
func (a engineAdapter) Functions() []Function {
	rows, err := a.e.NewSession().Query(context.Background(), "SHOW FUNCTIONS")
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []Function
	for rows.Next() {
		v := rows.Row().Values
		if len(v) >= 2 {
			name, _ := v[0].(string)
			cat, _ := v[1].(string)
			out = append(out, Function{Name: name, Category: cat})
		}
	}
	return out
}

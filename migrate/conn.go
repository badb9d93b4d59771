package migrate

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sluicedb/sluice"
)

// Conn is a sluice engine that migrations are applied to: an embedded
// *sluice.Engine (EngineConn) or a running sluice reached over the Postgres
// protocol (Dial). The Migrator needs nothing else, so the history and the
// lock behave the same both ways.
type Conn interface {
	// NewSession starts a session. Each migration file runs in a session of
	// its own, so a SET in one file does not leak into the next.
	NewSession(ctx context.Context) (Session, error)
}

// Session runs one statement at a time, like a psql session.
type Session interface {
	// Exec runs a statement that returns no rows. A failure of the
	// statement is an *sluice.Error, with a position relative to stmt when
	// the engine reported one.
	Exec(ctx context.Context, stmt string) error
	// Query runs a statement and returns all its rows. It is used for pull
	// queries, which end by themselves.
	Query(ctx context.Context, stmt string) (*Table, error)
	// Close ends the session.
	Close() error
}

// Table is a query result with every value as text, as the Postgres
// protocol delivers it; NULL is Value{Null: true}.
type Table struct {
	Columns []string
	Rows    [][]Value
}

// Value is one result value as text.
type Value struct {
	Text string
	Null bool
}

// EngineConn returns the Conn of an embedded engine.
func EngineConn(e *sluice.Engine) Conn { return engineConn{e} }

type engineConn struct{ e *sluice.Engine }

func (c engineConn) NewSession(context.Context) (Session, error) {
	return engineSession{c.e.NewSession()}, nil
}

type engineSession struct{ s *sluice.Session }

func (s engineSession) Exec(ctx context.Context, stmt string) error {
	rows, err := s.s.Query(ctx, stmt)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Columns() != nil {
		return fmt.Errorf("statement returned rows; only statements without results are run with Exec")
	}
	return nil
}

func (s engineSession) Query(ctx context.Context, stmt string) (*Table, error) {
	rows, err := s.s.Query(ctx, stmt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &Table{}
	for _, c := range rows.Columns() {
		t.Columns = append(t.Columns, c.Name)
	}
	for rows.Next() {
		vals := rows.Row().Values
		row := make([]Value, len(vals))
		for i, v := range vals {
			row[i] = textOf(v)
		}
		t.Rows = append(t.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

func (engineSession) Close() error { return nil }

// textOf renders the Go values of the columns the history uses (STRING and
// BIGINT) the way the Postgres server does, so both Conns read the same.
func textOf(v any) Value {
	switch v := v.(type) {
	case nil:
		return Value{Null: true}
	case string:
		return Value{Text: v}
	case int64:
		return Value{Text: strconv.FormatInt(v, 10)}
	case int32:
		return Value{Text: strconv.FormatInt(int64(v), 10)}
	case int:
		return Value{Text: strconv.Itoa(v)}
	default:
		return Value{Text: fmt.Sprint(v)}
	}
}

// column returns the index of the named column, or -1.
func (t *Table) column(name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

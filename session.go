package sluice

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// Session is a client session: properties set with SET and variables
// defined with DEFINE apply to its later statements, as in ksqlDB's CLI.
// A Session is not safe for concurrent use; the Engine is.
type Session struct {
	e     *Engine
	props map[string]string // SET values only
	vars  map[string]string // DEFINE values
}

// NewSession starts a session with the engine's default properties.
func (e *Engine) NewSession() *Session {
	return &Session{e: e, props: map[string]string{}, vars: map[string]string{}}
}

// Properties returns the session's effective properties: the engine's
// defaults overlaid with the session's SET values.
func (s *Session) Properties() map[string]string { return mergeProps(s.e.cfg.props, s.props) }

// Exec runs every statement of a script and returns one Result per
// statement. It stops at the first error, which is an *Error whose position
// is relative to the whole script. Queries that return rows (push and pull
// queries, SHOW, DESCRIBE) are not allowed in Exec; use Query.
func (s *Session) Exec(ctx context.Context, script string) ([]Result, error) {
	parts, err := sql.Split(script)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, p := range parts {
		rows, err := s.runText(ctx, p.Text, p.At)
		if err != nil {
			return out, err
		}
		if rows.Columns() != nil {
			rows.Close()
			return out, sql.Errorf(sql.CodeFeatureNotSupported, p.At,
				"Exec cannot run a statement that returns rows").
				WithHint("use Query for SELECT, SHOW, DESCRIBE and EXPLAIN")
		}
		out = append(out, rows.Result())
	}
	return out, nil
}

// Query runs one statement and returns its rows (see Rows). Any statement is
// allowed: one that returns no rows yields empty Rows whose Result says what
// happened.
func (s *Session) Query(ctx context.Context, stmt string) (*Rows, error) {
	parts, err := sql.Split(stmt)
	if err != nil {
		return nil, err
	}
	switch len(parts) {
	case 0:
		return nil, sql.Errorf(sql.CodeSyntax, sql.Pos{Line: 1, Col: 1}, "empty statement")
	case 1:
		return s.runText(ctx, parts[0].Text, parts[0].At)
	default:
		return nil, sql.Errorf(sql.CodeSyntax, parts[1].At, "Query runs one statement, got %d", len(parts)).
			WithHint("split the script, or use Exec for statements that return no rows")
	}
}

// runText substitutes variables, parses and runs one statement whose text
// starts at base in the caller's script.
func (s *Session) runText(ctx context.Context, text string, base sql.Pos) (*Rows, error) {
	if s.e.isClosed() {
		return nil, ErrClosed
	}
	if len(s.vars) > 0 {
		sub, err := sql.Substitute(text, s.vars)
		if err != nil {
			return nil, shiftErr(err, base)
		}
		text = sub
	}
	st, err := sql.ParseOne(text)
	if err != nil {
		return nil, shiftErr(err, base)
	}
	rows, err := s.run(ctx, st)
	if err != nil {
		return nil, shiftErr(err, base)
	}
	return rows, nil
}

// shiftErr moves the position of an *Error from statement-relative to
// script-relative coordinates.
func shiftErr(err error, base sql.Pos) error {
	var se *sql.Error
	if !errors.As(err, &se) || !se.Pos.IsValid() || !base.IsValid() {
		return err
	}
	shifted := *se
	if shifted.Pos.Line == 1 {
		shifted.Pos.Col += base.Col - 1
	}
	shifted.Pos.Line += base.Line - 1
	shifted.Pos.Offset += base.Offset
	return &shifted
}

// run executes one parsed statement.
func (s *Session) run(ctx context.Context, st sql.Stmt) (*Rows, error) {
	e := s.e
	props := s.Properties()
	switch st := st.(type) {
	case *sql.CreateSource:
		if st.Query != nil {
			return e.createAsSelect(ctx, st, props)
		}
		return e.createSource(ctx, st, props)
	case *sql.InsertInto:
		return e.insertSelect(ctx, st, props)
	case *sql.InsertValues:
		return e.insertValues(ctx, st, props)
	case *sql.Query:
		return e.query(ctx, st, props)
	case *sql.Show:
		return e.show(ctx, st, props)
	case *sql.Describe:
		return e.describe(ctx, st)
	case *sql.Explain:
		return e.explain(ctx, st, props)
	case *sql.Drop:
		return e.drop(ctx, st, props)
	case *sql.Terminate:
		return e.terminate(ctx, st)
	case *sql.CreateType:
		return e.createType(ctx, st, props)
	case *sql.SetProperty:
		s.props[st.Name] = st.Value
		return newResultRows(Result{Tag: "SET", Message: fmt.Sprintf("Successfully changed local property '%s' to '%s'.", st.Name, st.Value)}), nil
	case *sql.UnsetProperty:
		delete(s.props, st.Name)
		return newResultRows(Result{Tag: "UNSET", Message: fmt.Sprintf("Successfully unset local property '%s'.", st.Name)}), nil
	case *sql.DefineVariable:
		s.vars[st.Name] = st.Value
		return newResultRows(Result{Tag: "DEFINE"}), nil
	case *sql.UndefineVariable:
		delete(s.vars, st.Name)
		return newResultRows(Result{Tag: "UNDEFINE"}), nil
	}
	return nil, sql.Errorf(sql.CodeFeatureNotSupported, st.Position(), "statement %q is not supported",
		firstWords(st.Text()))
}

func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

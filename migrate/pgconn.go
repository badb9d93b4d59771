package migrate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/internal/pgclient"
	"github.com/sluicedb/sluice/sql"
)

// Dial returns the Conn of a running sluice at a postgres:// URL, e.g.
// postgres://127.0.0.1:7432. It speaks the Postgres simple-query protocol,
// which is all sluice's server needs, and checks at once that the server
// answers. Each session is a connection of its own.
//
// The client is internal/pgclient: the migrator sends one statement per
// Query message and reads text values.
func Dial(ctx context.Context, rawURL string) (Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--server %q: %w", rawURL, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("--server %q: want a postgres:// URL such as postgres://127.0.0.1:7432", rawURL)
	}
	host := u.Host
	if host == "" {
		host = "127.0.0.1:7432"
	} else if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "7432")
	}
	user := "sluice"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	c := &pgConn{addr: host, params: map[string]string{
		"user":             user,
		"database":         strings.TrimPrefix(u.Path, "/"),
		"application_name": "sluice migrate",
	}}
	if c.params["database"] == "" {
		c.params["database"] = user
	}
	s, err := c.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	s.Close()
	return c, nil
}

type pgConn struct {
	addr   string
	params map[string]string
}

func (c *pgConn) NewSession(ctx context.Context) (Session, error) {
	conn, err := pgclient.Dial(ctx, c.addr, c.params)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return nil, fmt.Errorf("connect to sluice at %s: %w (is 'sluice serve' running there?)", c.addr, err)
		}
		return nil, err
	}
	return &pgSession{c: conn}, nil
}

type pgSession struct{ c *pgclient.Conn }

// roundTrip sends one simple Query; a statement's error becomes the
// *sluice.Error the embedded engine would have returned.
func (s *pgSession) roundTrip(ctx context.Context, stmt string) (*Table, error) {
	res, err := s.c.Query(ctx, stmt)
	var pe *pgclient.Error
	if errors.As(err, &pe) {
		return nil, errorFromResponse(stmt, pe)
	}
	if err != nil || res.Columns == nil {
		return nil, err
	}
	t := &Table{Columns: res.Columns}
	for _, r := range res.Rows {
		row := make([]Value, len(r))
		for i, v := range r {
			if v == nil {
				row[i] = Value{Null: true}
			} else {
				row[i] = Value{Text: string(v)}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func (s *pgSession) Exec(ctx context.Context, stmt string) error {
	t, err := s.roundTrip(ctx, stmt)
	if err != nil {
		return err
	}
	if t != nil {
		return errors.New("statement returned rows; only statements without results are run with Exec")
	}
	return nil
}

func (s *pgSession) Query(ctx context.Context, stmt string) (*Table, error) {
	t, err := s.roundTrip(ctx, stmt)
	if err != nil {
		return nil, err
	}
	if t == nil {
		t = &Table{}
	}
	return t, nil
}

func (s *pgSession) Close() error { return s.c.Close() }

// errorFromResponse turns an ErrorResponse into the *sluice.Error the
// embedded engine would have returned, so that the migrator reports both
// the same way. Postgres positions count characters from 1.
func errorFromResponse(stmt string, m *pgclient.Error) error {
	e := &sluice.Error{Code: m.Code, Msg: m.Message, Hint: m.Hint}
	if m.Position > 0 {
		e.Pos = posAtChar(stmt, int(m.Position)-1)
	}
	return e
}

// posAtChar returns the position of the n-th character (0-based) of s.
func posAtChar(s string, n int) sql.Pos {
	p := sql.Pos{Line: 1, Col: 1}
	for i, r := range s {
		if n == 0 {
			p.Offset = i
			return p
		}
		n--
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
	}
	p.Offset = len(s)
	return p
}

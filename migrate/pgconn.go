package migrate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// Dial returns the Conn of a running sluice at a postgres:// URL, e.g.
// postgres://127.0.0.1:7432. It speaks the Postgres simple-query protocol,
// which is all sluice's server needs, and checks at once that the server
// answers. Each session is a connection of its own.
//
// The client is written against pgproto3 rather than a full driver: the
// migrator sends one statement per Query message and reads text values, and
// a driver's type mapping, pooling and extended protocol (which sluice's
// server does not speak yet) would only be in the way.
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
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("connect to sluice at %s: %w (is 'sluice serve' running there?)", c.addr, err)
	}
	s := &pgSession{nc: nc, fe: pgproto3.NewFrontend(pgproto3.NewChunkReader(nc), nc), addr: c.addr}
	if err := s.startup(ctx, c.params); err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

type pgSession struct {
	addr string
	nc   net.Conn
	fe   *pgproto3.Frontend
}

// guard makes a cancelled ctx unblock the socket: reads and writes fail at
// once, and the session is unusable afterwards, which is what a cancelled
// statement means for a migrator.
func (s *pgSession) guard(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { s.nc.SetDeadline(time.Unix(1, 0)) })
}

func (s *pgSession) startup(ctx context.Context, params map[string]string) error {
	defer s.guard(ctx)()
	if err := s.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: params}); err != nil {
		return s.ioErr(ctx, err)
	}
	for {
		msg, err := s.fe.Receive()
		if err != nil {
			return s.ioErr(ctx, err)
		}
		switch m := msg.(type) {
		case *pgproto3.AuthenticationOk, *pgproto3.ParameterStatus, *pgproto3.BackendKeyData, *pgproto3.NoticeResponse:
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("sluice at %s refused the connection: %s (SQLSTATE %s)", s.addr, m.Message, m.Code)
		default:
			return fmt.Errorf("sluice at %s asks for authentication (%T), which sluice migrate does not support", s.addr, m)
		}
	}
}

func (s *pgSession) ioErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("connection to sluice at %s: %w", s.addr, err)
}

// roundTrip sends one simple Query and reads the answer up to
// ReadyForQuery, so the session is in sync for the next statement even
// after an error.
func (s *pgSession) roundTrip(ctx context.Context, stmt string) (*Table, error) {
	defer s.guard(ctx)()
	if err := s.fe.Send(&pgproto3.Query{String: stmt}); err != nil {
		return nil, s.ioErr(ctx, err)
	}
	var t *Table
	var stmtErr error
	for {
		msg, err := s.fe.Receive()
		if err != nil {
			return nil, s.ioErr(ctx, err)
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			t = &Table{}
			for _, f := range m.Fields {
				t.Columns = append(t.Columns, string(f.Name))
			}
		case *pgproto3.DataRow:
			if t == nil {
				return nil, fmt.Errorf("sluice at %s sent a row without a row description", s.addr)
			}
			// The message's buffers are reused by the next Receive.
			row := make([]Value, len(m.Values))
			for i, v := range m.Values {
				if v == nil {
					row[i] = Value{Null: true}
				} else {
					row[i] = Value{Text: string(v)}
				}
			}
			t.Rows = append(t.Rows, row)
		case *pgproto3.ErrorResponse:
			stmtErr = errorFromResponse(stmt, m)
		case *pgproto3.ReadyForQuery:
			if stmtErr != nil {
				return nil, stmtErr
			}
			return t, nil
		case *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse, *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		default:
			return nil, fmt.Errorf("sluice at %s sent an unexpected %T", s.addr, m)
		}
	}
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

func (s *pgSession) Close() error {
	s.nc.SetDeadline(time.Now().Add(time.Second))
	s.fe.Send(&pgproto3.Terminate{})
	return s.nc.Close()
}

// errorFromResponse turns an ErrorResponse into the *sluice.Error the
// embedded engine would have returned, so that the migrator reports both
// the same way. Postgres positions count characters from 1.
func errorFromResponse(stmt string, m *pgproto3.ErrorResponse) error {
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

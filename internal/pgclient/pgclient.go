// Package pgclient is a minimal client of sluice's Postgres wire protocol:
// it connects with trust authentication and sends simple Query messages,
// returning every value as the text the server sent. sluice uses it where
// one sluice talks to another (pull queries forwarded to the instance that
// owns a partition) and where a tool drives a running sluice (sluice
// migrate --server).
//
// It is written against pgproto3 rather than a full driver: these callers
// send one Query message at a time and read text values, and a driver's
// type mapping, pooling and extended protocol would only be in the way.
package pgclient

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// Conn is one session with a server. It is not safe for concurrent use.
type Conn struct {
	addr string
	nc   net.Conn
	fe   *pgproto3.Frontend
}

// Result is what one Query message returned: the columns and rows of the
// last statement that returned rows (nil Columns when none did). A NULL
// value is a nil slice.
type Result struct {
	Columns []string
	Rows    [][][]byte
}

// Error is an ErrorResponse the server sent for a statement.
type Error struct {
	Code, Message, Hint string
	// Position is the 1-based character position in the statement text
	// the error points at, 0 if none.
	Position int32
}

func (e *Error) Error() string { return fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.Code) }

// Dial connects to addr (host:port) and starts a session with the given
// startup parameters (user, database, application_name, ...).
func Dial(ctx context.Context, addr string, params map[string]string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Conn{addr: addr, nc: nc, fe: pgproto3.NewFrontend(pgproto3.NewChunkReader(nc), nc)}
	if err := c.startup(ctx, params); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// guard makes a cancelled ctx unblock the socket: reads and writes fail at
// once, and the session is unusable afterwards.
func (c *Conn) guard(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
}

func (c *Conn) startup(ctx context.Context, params map[string]string) error {
	defer c.guard(ctx)()
	if err := c.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: params}); err != nil {
		return c.ioErr(ctx, err)
	}
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			return c.ioErr(ctx, err)
		}
		switch m := msg.(type) {
		case *pgproto3.AuthenticationOk, *pgproto3.ParameterStatus, *pgproto3.BackendKeyData, *pgproto3.NoticeResponse:
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("sluice at %s refused the connection: %w", c.addr, errorOf(m))
		default:
			return fmt.Errorf("sluice at %s asks for authentication (%T), which this client does not support", c.addr, m)
		}
	}
}

func (c *Conn) ioErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("connection to sluice at %s: %w", c.addr, err)
}

func errorOf(m *pgproto3.ErrorResponse) *Error {
	return &Error{Code: m.Code, Message: m.Message, Hint: m.Hint, Position: m.Position}
}

// Query sends one simple Query message (one or more statements) and reads
// the answer up to ReadyForQuery, so the session is in sync for the next
// one even after an error. A statement's error is returned as an *Error.
func (c *Conn) Query(ctx context.Context, text string) (*Result, error) {
	defer c.guard(ctx)()
	if err := c.fe.Send(&pgproto3.Query{String: text}); err != nil {
		return nil, c.ioErr(ctx, err)
	}
	res := &Result{}
	var stmtErr error
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			return nil, c.ioErr(ctx, err)
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			res = &Result{Columns: make([]string, 0, len(m.Fields))}
			for _, f := range m.Fields {
				res.Columns = append(res.Columns, string(f.Name))
			}
		case *pgproto3.DataRow:
			if res.Columns == nil {
				return nil, fmt.Errorf("sluice at %s sent a row without a row description", c.addr)
			}
			// The message's buffers are reused by the next Receive.
			row := make([][]byte, len(m.Values))
			for i, v := range m.Values {
				if v != nil {
					row[i] = append([]byte{}, v...)
				}
			}
			res.Rows = append(res.Rows, row)
		case *pgproto3.ErrorResponse:
			stmtErr = errorOf(m)
		case *pgproto3.ReadyForQuery:
			if stmtErr != nil {
				return nil, stmtErr
			}
			return res, nil
		case *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse, *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		default:
			return nil, fmt.Errorf("sluice at %s sent an unexpected %T", c.addr, m)
		}
	}
}

// Close ends the session.
func (c *Conn) Close() error {
	c.nc.SetDeadline(time.Now().Add(time.Second))
	c.fe.Send(&pgproto3.Terminate{})
	return c.nc.Close()
}

package server

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgproto3/v2"
	"github.com/sluicedb/sluice"
)

// SQLSTATEs the server itself produces (the engine's come with its errors).
const (
	codeInternal          = "XX000"
	codeQueryCanceled     = "57014"
	codeAdminShutdown     = "57P01"
	codeTooManyConns      = "53300"
	codeFeatureNotSupport = "0A000"
	codeProtocolViolation = "08P01"
)

// serverVersion is what clients see as server_version. Drivers parse the
// leading number to pick features, so it claims a modern Postgres.
const serverVersion = "15.0 (sluice)"

var (
	errUserCancel = errors.New("canceling statement due to user request")
	errClientGone = errors.New("client disconnected")
)

// clientMsg is a frontend message copied out of pgproto3's reused buffers,
// so the reader goroutine can go on reading while the connection works.
type clientMsg struct {
	typ   byte   // the protocol's message type byte; 0 for a protocol error
	query string // for 'Q'; for 0, the error
}

// conn is one client connection. Only its own goroutine (serve and what it
// calls) writes to the socket (package invariant 1).
type conn struct {
	srv  *Server
	nc   net.Conn
	bw   *bufio.Writer
	be   *pgproto3.Backend
	log  *slog.Logger
	sess Session

	pid, secret uint32 // set by Server.register

	mu     sync.Mutex
	cancel context.CancelCauseFunc // of the running statement; nil when idle
}

func (s *Server) handle(nc net.Conn) {
	defer s.untrack(nc)
	defer nc.Close()
	c := &conn{srv: s, nc: nc, bw: bufio.NewWriterSize(nc, 32<<10)}
	c.be = pgproto3.NewBackend(pgproto3.NewChunkReader(nc), c.bw)
	c.log = s.log.With("remote", nc.RemoteAddr().String())

	nc.SetDeadline(time.Now().Add(startupTimeout))
	params, ok := c.startup()
	if !ok {
		return
	}
	tooMany, closed := s.register(c)
	switch {
	case tooMany:
		c.fatal(codeTooManyConns, "sorry, too many clients already")
		return
	case closed:
		c.fatal(codeAdminShutdown, "the server is shutting down")
		return
	}
	defer s.unregister(c)
	c.log = c.log.With("pid", c.pid)
	if s.ctx.Err() == nil {
		// Close may have set a shutdown deadline already; only clear ours.
		nc.SetDeadline(time.Time{})
	}

	c.sess = s.eng.NewSession()
	c.send(&pgproto3.AuthenticationOk{})
	for _, p := range [][2]string{
		{"server_version", serverVersion},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"TimeZone", "UTC"},
		{"integer_datetimes", "on"},
		{"standard_conforming_strings", "on"},
		{"application_name", params["application_name"]},
	} {
		c.send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := c.bw.Flush(); err != nil {
		return
	}
	c.log.Debug("session started", "user", params["user"], "application_name", params["application_name"])
	c.serve()
	c.log.Debug("session ended")
}

// startup reads the startup packet, answering SSL and GSS encryption
// requests with 'N' (the client then goes on in plain text or gives up),
// and serving a CancelRequest. It returns the StartupMessage's parameters,
// or ok=false when the connection is done.
func (c *conn) startup() (params map[string]string, ok bool) {
	// A client asks for SSL and GSS encryption at most once each before
	// the StartupMessage; more is a broken or hostile client.
	for range 3 {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if !isClosedConnErr(err) {
				c.log.Debug("bad startup packet", "err", err)
				c.fatal(codeProtocolViolation, "invalid startup packet: "+err.Error())
			}
			return nil, false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			// TLS and GSS encryption are not implemented: a single 'N'
			// makes libpq go on in plain text (with sslmode=prefer).
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return nil, false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return nil, false
		case *pgproto3.StartupMessage:
			return m.Parameters, true
		}
	}
	c.fatal(codeProtocolViolation, "too many encryption requests before the startup message")
	return nil, false
}

// serve runs the session after startup: it executes messages in order
// until Terminate, a disconnect, or server shutdown.
func (c *conn) serve() {
	// The reader goroutine lets serve watch the socket while a statement
	// runs: a client that disconnects during a push query cancels it
	// instead of leaving it running until its next write fails, which for
	// a quiet push query could be never. It reads one message ahead at
	// most; msgs is unbuffered.
	msgs := make(chan clientMsg)
	gone := make(chan struct{}) // closed when reading failed: the client is gone
	quit := make(chan struct{}) // closed when serve returns
	defer close(quit)
	go func() {
		defer close(gone)
		for {
			m, err := c.be.Receive()
			if err != nil {
				if !isClosedConnErr(err) {
					// A malformed or unknown message: the stream cannot be
					// resynchronised, so serve says why and hangs up.
					c.log.Debug("reading from client", "err", err)
					select {
					case msgs <- clientMsg{typ: 0, query: err.Error()}:
					case <-quit:
					}
				}
				return
			}
			cm := clientMsg{}
			switch m := m.(type) {
			case *pgproto3.Query:
				cm = clientMsg{typ: 'Q', query: m.String}
			case *pgproto3.Terminate:
				cm.typ = 'X'
			case *pgproto3.Sync:
				cm.typ = 'S'
			case *pgproto3.Flush:
				cm.typ = 'H'
			case *pgproto3.FunctionCall:
				cm.typ = 'F'
			case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
				// Postgres ignores copy messages outside COPY.
				continue
			default:
				// Parse, Bind, Describe, Execute, Close: the extended
				// protocol. Password messages are not expected after
				// startup either; both answer with the same error.
				cm.typ = 'P'
			}
			select {
			case msgs <- cm:
			case <-quit:
				return
			}
			if cm.typ == 'X' {
				// Stop reading so that the socket's end after Terminate
				// is not mistaken for a disconnect; serve returns anyway.
				return
			}
		}
	}()

	// skipping is set after an extended-protocol message: like Postgres
	// after an error in an extended-protocol batch, discard everything
	// until Sync.
	skipping := false
	for {
		select {
		case <-gone:
			return
		case <-c.srv.ctx.Done():
			c.fatal(codeAdminShutdown, "terminating connection due to administrator command")
			return
		case m := <-msgs:
			if skipping && m.typ != 'S' && m.typ != 'X' && m.typ != 0 {
				continue
			}
			switch m.typ {
			case 0:
				c.fatal(codeProtocolViolation, "invalid message: "+m.query)
				return
			case 'X':
				return
			case 'Q':
				if !c.simpleQuery(m.query, gone) {
					return
				}
			case 'S':
				skipping = false
			case 'H':
				if err := c.bw.Flush(); err != nil {
					return
				}
				continue
			case 'F':
				c.sendError(&pgproto3.ErrorResponse{Code: codeFeatureNotSupport,
					Message: "function calls are not supported"})
			case 'P':
				c.sendError(&pgproto3.ErrorResponse{Code: codeFeatureNotSupport,
					Message: "extended query protocol is not supported yet; use simple query mode (psql does)"})
				skipping = true
				if err := c.bw.Flush(); err != nil {
					return
				}
				continue
			}
			c.send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if err := c.bw.Flush(); err != nil {
				return
			}
		}
	}
}

// stmtOutcome says how a statement ended, for the Query loop.
type stmtOutcome uint8

const (
	stmtDone   stmtOutcome = iota // go on with the next statement
	stmtFailed                    // an ErrorResponse went out; skip the rest
	connDone                      // the connection must end
)

// simpleQuery runs a Query message's statements in order. It reports false
// when the connection must end.
func (c *conn) simpleQuery(query string, gone <-chan struct{}) bool {
	stmts, err := sluice.SplitStatements(query)
	if err != nil {
		c.sendError(c.errorResponse(query, 0, err))
		return true
	}
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return true
	}
	for _, st := range stmts {
		switch c.runStatement(query, st, gone) {
		case stmtFailed:
			return true
		case connDone:
			return false
		}
	}
	return true
}

// runStatement runs one statement and sends its results.
func (c *conn) runStatement(query string, st sluice.Statement, gone <-chan struct{}) stmtOutcome {
	ctx, cancel := context.WithCancelCause(c.srv.ctx)
	defer cancel(nil)
	c.setCancel(cancel)
	defer c.setCancel(nil)
	stopWatch := watch(ctx, gone, func() { cancel(errClientGone) })
	defer stopWatch()

	rows, err := c.sess.Query(ctx, st.Text)
	if err != nil {
		if out, ok := c.interrupted(ctx); ok {
			return out
		}
		c.sendError(c.errorResponse(query, st.Pos.Offset, err))
		return stmtFailed
	}
	defer rows.Close()
	// Cancelling the statement must also unblock Next, whatever the engine
	// does with the context: Rows.Close may be called from any goroutine.
	stopClose := context.AfterFunc(ctx, func() { rows.Close() })
	defer stopClose()

	cols := rows.Columns()
	if cols == nil {
		res := rows.Result()
		if res.Message != "" {
			c.send(&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE",
				Code: "00000", Message: res.Message})
		}
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(res.Tag)})
		return stmtDone
	}

	c.send(rowDescription(cols))
	n, err := c.streamRows(ctx, cancel, rows, len(cols))
	if out, ok := c.interrupted(ctx); ok {
		return out
	}
	if err != nil {
		c.sendError(c.errorResponse(query, st.Pos.Offset, err))
		return stmtFailed
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT " + strconv.FormatInt(n, 10))})
	return stmtDone
}

// watch calls f when gone closes, until stop is called or ctx ends.
func watch(ctx context.Context, gone <-chan struct{}, f func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-gone:
			f()
		case <-ctx.Done():
		case <-done:
		}
	}()
	return func() { close(done) }
}

// interrupted reports how a statement whose context ended must finish:
// a user cancel is a 57014 error, a shutdown a FATAL 57P01, a disconnect
// ends the connection silently.
func (c *conn) interrupted(ctx context.Context) (stmtOutcome, bool) {
	if ctx.Err() == nil {
		return 0, false
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errUserCancel):
		c.sendError(&pgproto3.ErrorResponse{Code: codeQueryCanceled, Message: errUserCancel.Error()})
		return stmtFailed, true
	case errors.Is(cause, errClientGone), errors.Is(cause, errWriteFailed):
		return connDone, true
	default: // the server's context: Close was called
		c.fatal(codeAdminShutdown, "terminating connection due to administrator command")
		return connDone, true
	}
}

var errWriteFailed = errors.New("writing to the client failed")

// streamRows sends the rows as DataRows and returns how many it sent.
//
// A producer goroutine calls Next while this one writes, so that output is
// flushed exactly when no further row is ready: a pull query's rows go out in
// large writes, and each row of a push query reaches the socket as soon as
// it exists. (psql itself still prints a result only once it is complete,
// unless \set FETCH_COUNT is used, which needs cursors sluice does not have
// yet; drivers that stream rows, like pgx, show them at once.)
func (c *conn) streamRows(ctx context.Context, cancel context.CancelCauseFunc, rows Rows, ncols int) (int64, error) {
	ch := make(chan sluice.Row, 64)
	go func() {
		defer close(ch)
		for rows.Next() {
			select {
			case ch <- rows.Row():
			case <-ctx.Done():
				return
			}
		}
	}()
	// Whatever happens, wait for the producer before touching rows again:
	// Rows is not safe for concurrent use.
	drain := func() {
		for range ch {
		}
	}

	var (
		n      int64
		buf    []byte
		fields = make([][]byte, ncols)
		offs   = make([]int, 0, ncols+1)
		werr   error
	)
	for {
		var row sluice.Row
		var ok bool
		select {
		case row, ok = <-ch:
		default:
			if err := c.bw.Flush(); err != nil {
				cancel(errWriteFailed)
				drain()
				return n, err
			}
			row, ok = <-ch
		}
		if !ok {
			break
		}
		if len(row.Values) != ncols {
			werr = errors.New("server: row has " + strconv.Itoa(len(row.Values)) +
				" values for " + strconv.Itoa(ncols) + " columns")
			break
		}
		// One buffer holds the row's rendered values; fields slice it once
		// it stops growing. Send encodes a copy, so both are reused.
		buf, offs = buf[:0], offs[:0]
		for i, v := range row.Values {
			offs = append(offs, len(buf))
			if v == nil {
				fields[i] = nil
				continue
			}
			if buf, werr = appendText(buf, v); werr != nil {
				break
			}
			fields[i] = []byte{} // marks non-NULL; resliced below
		}
		if werr != nil {
			break
		}
		offs = append(offs, len(buf))
		for i := range fields {
			if fields[i] != nil {
				fields[i] = buf[offs[i]:offs[i+1]:offs[i+1]]
			}
		}
		if err := c.be.Send(&pgproto3.DataRow{Values: fields}); err != nil {
			cancel(errWriteFailed)
			drain()
			return n, err
		}
		n++
	}
	if werr != nil {
		// An unrenderable value is an engine bug: stop the query.
		cancel(werr)
		drain()
		return n, werr
	}
	drain()
	return n, rows.Err()
}

// rowDescription describes result columns in text format.
func rowDescription(cols []sluice.Column) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		t := pgTypeOf(col.Type)
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(col.Name),
			DataTypeOID:  t.OID,
			DataTypeSize: t.Size,
			TypeModifier: t.Typmod,
			Format:       pgproto3.TextFormat,
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// errorResponse turns a statement's error into an ErrorResponse. base is the
// byte offset of the statement in the query string: Postgres positions count
// characters from 1 over the whole string the client sent.
func (c *conn) errorResponse(query string, base int, err error) *pgproto3.ErrorResponse {
	var se *sluice.Error
	switch {
	case errors.As(err, &se):
		r := &pgproto3.ErrorResponse{Code: se.Code, Message: se.Msg, Hint: se.Hint}
		if r.Code == "" {
			r.Code = codeInternal
		}
		if se.Pos.IsValid() {
			if off := base + se.Pos.Offset; off >= 0 && off <= len(query) {
				r.Position = int32(utf8.RuneCountInString(query[:off]) + 1)
			}
		}
		return r
	case errors.Is(err, sluice.ErrClosed):
		return &pgproto3.ErrorResponse{Code: codeAdminShutdown, Message: "the engine is shutting down"}
	default:
		// Not a user-facing error: its text may name files, offsets or
		// internal types, so it goes to the log only.
		c.log.Error("statement failed with an internal error", "err", err)
		return &pgproto3.ErrorResponse{Code: codeInternal,
			Message: "internal error while running the statement",
			Hint:    "the server log has the details"}
	}
}

func (c *conn) setCancel(f context.CancelCauseFunc) {
	c.mu.Lock()
	c.cancel = f
	c.mu.Unlock()
}

// cancelRunning cancels the running statement, if any, with cause.
func (c *conn) cancelRunning(cause error) {
	c.mu.Lock()
	f := c.cancel
	c.mu.Unlock()
	if f != nil {
		f(cause)
	}
}

// send queues a message; write errors surface at the next Flush.
func (c *conn) send(m pgproto3.BackendMessage) {
	// bufio.Writer keeps its first error and returns it from every later
	// Write and Flush, so ignoring it here loses nothing.
	_ = c.be.Send(m)
}

func (c *conn) sendError(r *pgproto3.ErrorResponse) {
	r.Severity, r.SeverityUnlocalized = "ERROR", "ERROR"
	c.send(r)
}

// fatal sends a FATAL error and flushes; the caller then closes.
func (c *conn) fatal(code, msg string) {
	c.send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
	_ = c.bw.Flush()
}

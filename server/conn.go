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
	"github.com/sluicedb/sluice/sql"
)

// SQLSTATEs the server itself produces (the engine's come with its errors).
const (
	codeInternal            = "XX000"
	codeQueryCanceled       = "57014"
	codeAdminShutdown       = "57P01"
	codeTooManyConns        = "53300"
	codeFeatureNotSupport   = "0A000"
	codeProtocolViolation   = "08P01"
	codeInvalidPassword     = "28P01"
	codeInvalidAuthSpec     = "28000"
	codeInFailedTx          = "25P02"
	codeNoActiveTx          = "25P01"
	codeActiveTx            = "25001"
	codeDuplicateCursor     = "42P03"
	codeDuplicatePrepared   = "42P05"
	codeUndefinedCursor     = "34000"
	codeUndefinedPrepared   = "26000"
	codeUndefinedObject     = "42704"
	codeSyntax              = "42601"
	codeInvalidParamValue   = "22023"
	codeInvalidBinaryFormat = "22P03"
)

// serverVersion is what clients see as server_version. Drivers and psql
// parse the leading number to pick features and catalog queries, so it
// claims the Postgres release whose catalog the compatibility layer
// emulates.
const (
	serverVersion    = "15.0 (sluice)"
	serverVersionNum = "150000"
)

var (
	errUserCancel   = errors.New("canceling statement due to user request")
	errClientGone   = errors.New("client disconnected")
	errWriteFailed  = errors.New("writing to the client failed")
	errPortalClosed = errors.New("portal closed")
)

// clientMsg is a frontend message copied out of pgproto3's reused buffers,
// so the reader goroutine can go on reading while the connection works.
type clientMsg struct {
	msg pgproto3.FrontendMessage
	err error // a malformed or unknown message
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
	user        string
	database    string
	settings    *settings

	tx       byte // 'I' idle, 'T' in a transaction block, 'E' in a failed one
	stmts    map[string]*prepared
	portals  map[string]*portal // protocol portals and DECLAREd cursors share a namespace
	desc     *described         // rows started by a statement Describe, for its Bind
	gone     <-chan struct{}    // closed when the client disconnected
	skipping bool               // after an extended-protocol error: discard until Sync

	mu     sync.Mutex
	cancel context.CancelCauseFunc // of the running statement; nil when idle
}

func (s *Server) handle(nc net.Conn) {
	defer s.untrack(nc)
	c := &conn{srv: s, nc: nc}
	defer func() { c.nc.Close() }()
	c.setConn(nc)
	c.log = s.log.With("remote", nc.RemoteAddr().String())

	nc.SetDeadline(time.Now().Add(startupTimeout))
	params, ok := c.startup()
	if !ok {
		return
	}
	c.user, c.database = params["user"], params["database"]
	if c.database == "" {
		c.database = c.user
	}
	if !c.authenticate() {
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
		c.nc.SetDeadline(time.Time{})
	}

	c.sess = s.eng.NewSession()
	c.settings = newSettings(c.user, params["application_name"])
	c.tx = 'I'
	c.stmts = map[string]*prepared{}
	c.portals = map[string]*portal{}
	c.send(&pgproto3.AuthenticationOk{})
	for _, k := range knownSettings {
		if k.reported {
			v, _ := c.settings.get(k.name)
			c.send(&pgproto3.ParameterStatus{Name: k.name, Value: v})
		}
	}
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.tx})
	if err := c.bw.Flush(); err != nil {
		return
	}
	c.log.Debug("session started", "user", c.user, "application_name", params["application_name"])
	c.serve()
	c.closeAll()
	c.log.Debug("session ended")
}

// setConn (re)builds the buffered writer and protocol backend over nc, at
// accept and after the TLS handshake replaced the socket.
func (c *conn) setConn(nc net.Conn) {
	c.nc = nc
	c.bw = bufio.NewWriterSize(nc, 32<<10)
	c.be = pgproto3.NewBackend(pgproto3.NewChunkReader(nc), c.bw)
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
	c.gone = gone
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
					case msgs <- clientMsg{err: err}:
					case <-quit:
					}
				}
				return
			}
			cm := clientMsg{msg: ownMessage(m)}
			if cm.msg == nil {
				continue // copy messages outside COPY FROM: ignored, as Postgres does
			}
			select {
			case msgs <- cm:
			case <-quit:
				return
			}
			if _, ok := m.(*pgproto3.Terminate); ok {
				// Stop reading so that the socket's end after Terminate
				// is not mistaken for a disconnect; serve returns anyway.
				return
			}
		}
	}()

	for {
		select {
		case <-gone:
			return
		case <-c.srv.ctx.Done():
			c.fatal(codeAdminShutdown, "terminating connection due to administrator command")
			return
		case m := <-msgs:
			if m.err != nil {
				c.fatal(codeProtocolViolation, "invalid message: "+m.err.Error())
				return
			}
			if !c.dispatch(m.msg) {
				return
			}
		}
	}
}

// dispatch handles one message. It reports false when the connection must
// end.
func (c *conn) dispatch(m pgproto3.FrontendMessage) bool {
	switch m.(type) {
	case *pgproto3.Sync, *pgproto3.Terminate:
	default:
		if c.skipping {
			return true
		}
	}
	var out stmtOutcome
	switch m := m.(type) {
	case *pgproto3.Terminate:
		return false
	case *pgproto3.Query:
		out = c.simpleQuery(m.String)
		if out == connDone {
			return false
		}
		return c.ready()
	case *pgproto3.Sync:
		c.skipping = false
		if c.tx == 'I' {
			c.endImplicitTx()
		}
		c.agePending()
		return c.ready()
	case *pgproto3.Flush:
		return c.bw.Flush() == nil
	case *pgproto3.Parse:
		out = c.parse(m)
	case *pgproto3.Bind:
		out = c.bind(m)
	case *pgproto3.Describe:
		out = c.describe(m)
	case *pgproto3.Execute:
		out = c.execute(m)
	case *pgproto3.Close:
		out = c.closeMsg(m)
	case *pgproto3.FunctionCall:
		c.sendError(&pgproto3.ErrorResponse{Code: codeFeatureNotSupport, Message: "function calls are not supported"})
		return c.ready()
	default:
		c.fatal(codeProtocolViolation, "unexpected message after startup")
		return false
	}
	switch out {
	case connDone:
		return false
	case stmtFailed:
		c.skipping = true
	}
	return true
}

// ready ends a request cycle: ReadyForQuery with the transaction status,
// and a flush.
func (c *conn) ready() bool {
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.tx})
	return c.bw.Flush() == nil
}

// ownMessage copies the parts of a message that alias pgproto3's buffers.
// It returns nil for messages serve ignores.
func ownMessage(m pgproto3.FrontendMessage) pgproto3.FrontendMessage {
	switch m := m.(type) {
	case *pgproto3.Query:
		return &pgproto3.Query{String: m.String}
	case *pgproto3.Parse:
		return &pgproto3.Parse{Name: m.Name, Query: m.Query, ParameterOIDs: append([]uint32(nil), m.ParameterOIDs...)}
	case *pgproto3.Bind:
		b := &pgproto3.Bind{
			DestinationPortal:    m.DestinationPortal,
			PreparedStatement:    m.PreparedStatement,
			ParameterFormatCodes: append([]int16(nil), m.ParameterFormatCodes...),
			ResultFormatCodes:    append([]int16(nil), m.ResultFormatCodes...),
			Parameters:           make([][]byte, len(m.Parameters)),
		}
		for i, p := range m.Parameters {
			if p != nil {
				b.Parameters[i] = append([]byte{}, p...)
			}
		}
		return b
	case *pgproto3.Describe:
		return &pgproto3.Describe{ObjectType: m.ObjectType, Name: m.Name}
	case *pgproto3.Execute:
		return &pgproto3.Execute{Portal: m.Portal, MaxRows: m.MaxRows}
	case *pgproto3.Close:
		return &pgproto3.Close{ObjectType: m.ObjectType, Name: m.Name}
	case *pgproto3.Sync, *pgproto3.Flush, *pgproto3.Terminate, *pgproto3.FunctionCall:
		return m
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		return nil
	}
	return m
}

// stmtOutcome says how a statement ended.
type stmtOutcome uint8

const (
	stmtDone   stmtOutcome = iota // go on with the next statement
	stmtFailed                    // an ErrorResponse went out; skip the rest
	connDone                      // the connection must end
)

// simpleQuery runs a Query message's statements in order.
func (c *conn) simpleQuery(query string) stmtOutcome {
	parts, err := splitStatements(query)
	if err != nil {
		c.fail(c.errorResponse(query, 0, err))
		return stmtDone
	}
	if len(parts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return stmtDone
	}
	for _, part := range parts {
		st, err := classify(part.text)
		if err != nil {
			c.fail(c.errorResponse(query, part.base, err))
			break
		}
		p := &portal{st: st}
		c.replacePortal("", p)
		out := c.run(p, 0, true, query, part.base)
		if out == connDone {
			return connDone
		}
		if out == stmtFailed {
			break
		}
	}
	if c.tx == 'I' {
		c.endImplicitTx()
	}
	return stmtDone
}

// stmtPart is one statement of a Query string and its byte offset there.
type stmtPart struct {
	text string
	base int
}

// splitStatements cuts a query string at top-level semicolons with the
// Postgres-flavoured lexer, so catalog queries with ~ operators split too.
func splitStatements(query string) ([]stmtPart, error) {
	toks, err := sql.PGTokens(query)
	if err != nil {
		return nil, err
	}
	var parts []stmtPart
	lo := 0
	for i, t := range toks {
		if t.Kind == sql.PGEOF || t.IsOp(";") {
			if i > lo {
				start, end := toks[lo].Pos.Offset, toks[i-1].End
				parts = append(parts, stmtPart{text: query[start:end], base: start})
			}
			lo = i + 1
		}
	}
	return parts, nil
}

// fail sends an error and marks a transaction block failed.
func (c *conn) fail(r *pgproto3.ErrorResponse) {
	c.sendError(r)
	if c.tx == 'T' {
		c.tx = 'E'
	}
}

// run executes a portal: all of it, or up to max rows (0 = all). simple
// says the statement came in a Query message: then RowDescription goes
// before the rows, as Describe does in the extended protocol. query and
// base place error positions in the client's text.
func (c *conn) run(p *portal, max int64, simple bool, query string, base int) stmtOutcome {
	st := p.st
	if c.tx == 'E' && st.kind != kindCommit && st.kind != kindRollback {
		c.sendError(&pgproto3.ErrorResponse{Code: codeInFailedTx,
			Message: "current transaction is aborted, commands ignored until end of transaction block",
			Hint:    "send ROLLBACK"})
		return stmtFailed
	}
	out, err := c.runStmt(p, max, simple)
	if err != nil {
		c.fail(c.errorResponse(query, base, err))
		return stmtFailed
	}
	if out == stmtFailed && c.tx == 'T' {
		c.tx = 'E'
	}
	return out
}

// runStmt does the work of run; an error return is reported by run.
func (c *conn) runStmt(p *portal, max int64, simple bool) (stmtOutcome, error) {
	st := p.st
	switch st.kind {
	case kindEmpty:
		c.send(&pgproto3.EmptyQueryResponse{})
		return stmtDone, nil
	case kindBegin, kindCommit, kindRollback, kindSet, kindReset, kindDiscard, kindDeclare, kindClose:
		tag, err := c.utility(st)
		if err != nil {
			return stmtFailed, err
		}
		c.complete(tag)
		return stmtDone, nil
	case kindCopy:
		return c.copyOut(p)
	case kindFetch:
		cur := c.portals[st.name]
		if cur == nil || !cur.cursor {
			return stmtFailed, sql.Errorf(codeUndefinedCursor, sql.Pos{}, "cursor %q does not exist", st.name)
		}
		if simple {
			c.send(cur.stream.description(nil))
		}
		limit := st.count
		if limit < 0 {
			limit = 0
		}
		if max > 0 && (limit == 0 || max < limit) {
			limit = max
		}
		n, _, out, err := c.pump(cur.stream, limit, cur.stream.encoder(nil))
		if out != stmtDone || err != nil {
			return out, err
		}
		c.complete("FETCH " + strconv.FormatInt(n, 10))
		return stmtDone, nil
	}
	if !st.rows {
		return c.command(st)
	}
	if p.stream == nil {
		s, err := c.open(st)
		if err != nil {
			return stmtFailed, err
		}
		p.stream = s
	}
	if p.stream.cols == nil {
		// A statement that returns no rows after all (see classify).
		res := p.stream.rows.Result()
		if res.Message != "" {
			c.notice("NOTICE", "00000", res.Message)
		}
		c.complete(res.Tag)
		return stmtDone, nil
	}
	if simple {
		c.send(p.stream.description(p.formats))
	}
	n, suspended, out, err := c.pump(p.stream, max, p.stream.encoder(p.formats))
	if out != stmtDone || err != nil {
		return out, err
	}
	if suspended {
		c.send(&pgproto3.PortalSuspended{})
		return stmtDone, nil
	}
	tag := "SELECT " + strconv.FormatInt(p.stream.sent, 10)
	if st.kind == kindShow {
		tag = "SHOW"
	}
	_ = n
	c.complete(tag)
	return stmtDone, nil
}

func (c *conn) complete(tag string) {
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

// command runs an engine statement that returns no rows.
func (c *conn) command(st *stmtInfo) (stmtOutcome, error) {
	ctx, cancel := context.WithCancelCause(c.srv.ctx)
	defer cancel(nil)
	c.setCancel(cancel)
	defer c.setCancel(nil)
	stop := watch(ctx, c.gone, func() { cancel(errClientGone) })
	defer stop()
	rows, err := c.sess.Query(ctx, c.engineText(st))
	if err != nil {
		if out, ok := c.interrupted(ctx); ok {
			return out, nil
		}
		return stmtFailed, err
	}
	defer rows.Close()
	if rows.Columns() != nil {
		// Classified as a command, yet it returned rows: the extended
		// protocol's Describe told the client there are none, so none
		// are sent there.
		c.complete("SELECT 0")
		return stmtDone, nil
	}
	res := rows.Result()
	if res.Message != "" {
		c.send(&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE",
			Code: "00000", Message: res.Message})
	}
	c.complete(res.Tag)
	return stmtDone, nil
}

// open starts a statement that returns rows and returns its stream.
func (c *conn) open(st *stmtInfo) (*stream, error) {
	s := newStream(c.srv.ctx)
	switch st.kind {
	case kindShow:
		rows, types, err := c.showRows(st.name)
		if err != nil {
			s.close()
			return nil, err
		}
		s.attach(rows, types)
		return s, nil
	case kindCatalog:
		rows, types, err := c.catalogRows(st)
		if err != nil {
			s.close()
			return nil, err
		}
		s.attach(rows, types)
		return s, nil
	}
	c.setCancel(s.cancel)
	defer c.setCancel(nil)
	stop := watch(s.ctx, c.gone, func() { s.cancel(errClientGone) })
	defer stop()
	rows, err := c.sess.Query(s.ctx, c.engineText(st))
	if err != nil {
		cause := context.Cause(s.ctx)
		s.close()
		if errors.Is(cause, errUserCancel) {
			return nil, sql.Errorf(codeQueryCanceled, sql.Pos{}, "%s", errUserCancel.Error())
		}
		return nil, err
	}
	s.attach(rows, nil)
	return s, nil
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
// ends the connection silently. ok=false when ctx did not end or ended for
// another reason, which the caller reports as an error.
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
	case c.srv.ctx.Err() != nil:
		c.fatal(codeAdminShutdown, "terminating connection due to administrator command")
		return connDone, true
	}
	return 0, false
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
		if se.Pos.IsValid() && query != "" {
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

func (c *conn) notice(severity, code, msg string) {
	c.send(&pgproto3.NoticeResponse{Severity: severity, SeverityUnlocalized: severity, Code: code, Message: msg})
}

// fatal sends a FATAL error and flushes; the caller then closes.
func (c *conn) fatal(code, msg string) {
	c.send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
	_ = c.bw.Flush()
}

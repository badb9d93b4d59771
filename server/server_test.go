package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// startServer runs a server for a fake engine on a free loopback port.
func startServer(t *testing.T, cfg Config) (*Server, *fakeEngine) {
	t.Helper()
	eng := &fakeEngine{}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(eng, cfg)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, eng
}

// client is a raw protocol client built on pgproto3's Frontend.
type client struct {
	t           *testing.T
	nc          net.Conn
	fe          *pgproto3.Frontend
	pid, secret uint32
	params      map[string]string
}

func dial(t *testing.T, srv *Server) *client {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, nc: nc, fe: pgproto3.NewFrontend(pgproto3.NewChunkReader(nc), nc), params: map[string]string{}}
}

// connect dials and completes startup (asking for SSL first, like libpq).
func connect(t *testing.T, srv *Server) *client {
	t.Helper()
	c := dial(t, srv)
	c.send(&pgproto3.SSLRequest{})
	b := make([]byte, 1)
	if _, err := io.ReadFull(c.nc, b); err != nil || b[0] != 'N' {
		t.Fatalf("SSLRequest answer = %q, %v; want 'N'", b, err)
	}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "u", "application_name": "test-app"}})
	if _, ok := c.recv().(*pgproto3.AuthenticationOk); !ok {
		t.Fatal("no AuthenticationOk")
	}
	for {
		switch m := c.recv().(type) {
		case *pgproto3.ParameterStatus:
			c.params[m.Name] = m.Value
		case *pgproto3.BackendKeyData:
			c.pid, c.secret = m.ProcessID, m.SecretKey
		case *pgproto3.ReadyForQuery:
			return c
		default:
			t.Fatalf("unexpected startup message %T", m)
		}
	}
}

func (c *client) send(m pgproto3.FrontendMessage) {
	c.t.Helper()
	if err := c.fe.Send(m); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) recv() pgproto3.BackendMessage {
	c.t.Helper()
	m, err := c.fe.Receive()
	if err != nil {
		c.t.Fatalf("receive: %v", err)
	}
	return m
}

// query sends a Query and renders everything up to ReadyForQuery as lines,
// one per message, so tests compare the whole exchange.
func (c *client) query(q string) []string {
	c.t.Helper()
	c.send(&pgproto3.Query{String: q})
	return c.until()
}

func (c *client) until() []string {
	c.t.Helper()
	var out []string
	for {
		m := c.recv()
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			return out
		}
		out = append(out, describe(m))
	}
}

func describe(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.RowDescription:
		var f []string
		for _, fd := range m.Fields {
			f = append(f, string(fd.Name)+":"+itoa(int64(fd.DataTypeOID)))
		}
		return "T " + strings.Join(f, " ")
	case *pgproto3.DataRow:
		var f []string
		for _, v := range m.Values {
			if v == nil {
				f = append(f, "<NULL>")
			} else {
				f = append(f, string(v))
			}
		}
		return "D " + strings.Join(f, "|")
	case *pgproto3.CommandComplete:
		return "C " + string(m.CommandTag)
	case *pgproto3.NoticeResponse:
		return "N " + m.Severity + " " + m.Message
	case *pgproto3.ErrorResponse:
		s := "E " + m.Severity + " " + m.Code + " " + m.Message
		if m.Hint != "" {
			s += " hint=" + m.Hint
		}
		if m.Position != 0 {
			s += " pos=" + itoa(int64(m.Position))
		}
		return s
	case *pgproto3.EmptyQueryResponse:
		return "I"
	}
	return fmt.Sprintf("?%T", m)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestStartupParameters(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	want := map[string]string{
		"server_version":              "15.0 (sluice)",
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"TimeZone":                    "UTC",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"application_name":            "test-app",
	}
	for k, v := range want {
		if c.params[k] != v {
			t.Errorf("ParameterStatus %s = %q, want %q", k, c.params[k], v)
		}
	}
	if c.pid == 0 {
		t.Error("BackendKeyData has process id 0")
	}
}

func TestStatementsShareTheSession(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	equalLines(t, "SET then PROPS in one Query", c.query("SET 'a'='1'; SILENT;\nPROPS"), []string{
		"N NOTICE Successfully changed local property 'a'.",
		"C SET",
		"C TERMINATE",
		"T K:25 V:25",
		"D a|1",
		"C SELECT 1",
	})
	equalLines(t, "PROPS in a later Query", c.query("PROPS"), []string{"T K:25 V:25", "D a|1", "C SELECT 1"})
	other := connect(t, srv)
	equalLines(t, "PROPS in another connection", other.query("PROPS"), []string{"T K:25 V:25", "C SELECT 0"})
}

func TestAllTypesOverTheWire(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	got := c.query("STATIC")
	want := []string{
		"T B:16 I:23 L:20 D:701 N:1700 S:25 Y:17 DT:1082 T:1083 TS:1114 A:114 M:114 ST:114 NUL:25 E:25",
		"D " + strings.Join(allTypesText, "|"),
		"C SELECT 1",
	}
	equalLines(t, "STATIC", got, want)
}

func TestEmptyQuery(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	equalLines(t, "empty string", c.query(""), []string{"I"})
	equalLines(t, "comments and semicolons", c.query(" ; -- nothing\n;"), []string{"I"})
}

func TestErrorsStopTheQueryAndPointIntoIt(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	// "é" is two bytes but one character: Position counts characters over
	// the whole Query string. BAD's error is at offset 4 of its statement,
	// which starts at character 21 (1-based), so the position is 25.
	q := "SET 'a'='1';\n  -- é\nBAD x; SET 'b'='2'"
	equalLines(t, "error in the second statement", c.query(q), []string{
		"N NOTICE Successfully changed local property 'a'.",
		"C SET",
		`E ERROR 42601 syntax error at or near "x" hint=check the statement pos=25`,
	})
	if got := []rune(q)[24]; got != 'x' {
		t.Fatalf("test is off: character 25 is %q", got)
	}
	// The statement after the error did not run, and the session lives on.
	equalLines(t, "after the error", c.query("PROPS"), []string{"T K:25 V:25", "D a|1", "C SELECT 1"})
}

func TestUnterminatedQuoteIsASyntaxError(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	got := c.query("PROPS; SELECT 'oops")
	if len(got) != 1 || !strings.HasPrefix(got[0], "E ERROR 42601 ") || !strings.HasSuffix(got[0], "pos=15") {
		t.Errorf("unterminated quote: got %q; want one 42601 error at position 15", got)
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	got := c.query("BOOM")
	equalLines(t, "internal error", got, []string{
		"E ERROR XX000 internal error while running the statement hint=the server log has the details",
	})
}

func TestErrorAfterRows(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	equalLines(t, "FAILMID", c.query("FAILMID; PROPS"), []string{
		"T N:23", "D 1", "E ERROR 22012 division by zero hint=guard the divisor",
	})
}

func TestExtendedProtocolErrorSkipsUntilSync(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	c.send(&pgproto3.Parse{Query: "PROPS"})
	c.send(&pgproto3.Bind{PreparedStatement: "nope"})
	c.send(&pgproto3.Describe{ObjectType: 'P'})
	c.send(&pgproto3.Execute{})
	c.send(&pgproto3.Query{String: "PROPS"}) // discarded: before Sync
	c.send(&pgproto3.Sync{})
	equalLines(t, "extended batch", c.until(), []string{
		"?*pgproto3.ParseComplete",
		`E ERROR 26000 prepared statement "nope" does not exist`,
	})
	equalLines(t, "simple query after Sync", c.query("PROPS"), []string{"T K:25 V:25", "C SELECT 0"})
}

func TestExtendedProtocolRowLimitSuspends(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	c.query("SET 'a'='1'; SET 'b'='2'")
	c.send(&pgproto3.Parse{Name: "s", Query: "PROPS"})
	c.send(&pgproto3.Describe{ObjectType: 'S', Name: "s"})
	c.send(&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"})
	c.send(&pgproto3.Execute{Portal: "p", MaxRows: 1})
	c.send(&pgproto3.Execute{Portal: "p", MaxRows: 1})
	c.send(&pgproto3.Execute{Portal: "p"})
	c.send(&pgproto3.Sync{})
	equalLines(t, "suspended portal", c.until(), []string{
		"?*pgproto3.ParseComplete",
		"?*pgproto3.ParameterDescription",
		"T K:25 V:25",
		"?*pgproto3.BindComplete",
		"D a|1",
		"?*pgproto3.PortalSuspended",
		"D b|2",
		"?*pgproto3.PortalSuspended",
		"C SELECT 2",
	})
}

// readPushRows reads the RowDescription and n DataRows of a push query.
func (c *client) readPushRows(n int) {
	c.t.Helper()
	if m := describe(c.recv()); m != "T SEQ:20" {
		c.t.Fatalf("push query starts with %q", m)
	}
	for i := range n {
		if m, want := describe(c.recv()), "D "+itoa(int64(i)); m != want {
			c.t.Fatalf("push row %d = %q, want %q", i, m, want)
		}
	}
}

func TestCancelRequestStopsAPushQuery(t *testing.T) {
	srv, eng := startServer(t, Config{})
	c := connect(t, srv)
	c.send(&pgproto3.Query{String: "PUSH; PROPS"})
	// Rows arrive one by one while the query runs: each was flushed.
	c.readPushRows(3)

	// A wrong secret cancels nothing.
	bad := dial(t, srv)
	bad.send(&pgproto3.CancelRequest{ProcessID: c.pid, SecretKey: c.secret + 1})
	if _, err := bad.fe.Receive(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after CancelRequest: %v; want the server to close the connection", err)
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case <-eng.push(1).closed:
		t.Fatal("a CancelRequest with a wrong secret stopped the query")
	default:
	}

	cancel := dial(t, srv)
	cancel.send(&pgproto3.CancelRequest{ProcessID: c.pid, SecretKey: c.secret})
	got := c.until()
	for len(got) > 0 && strings.HasPrefix(got[0], "D ") {
		got = got[1:] // rows produced before the cancel landed
	}
	equalLines(t, "after cancel", got, []string{"E ERROR 57014 canceling statement due to user request"})
	<-eng.push(1).closed
	equalLines(t, "session after cancel", c.query("SILENT"), []string{"C TERMINATE"})
}

func TestDisconnectStopsAPushQuery(t *testing.T) {
	srv, eng := startServer(t, Config{})
	c := connect(t, srv)
	c.send(&pgproto3.Query{String: "PUSH"})
	c.readPushRows(1)
	c.nc.Close()
	select {
	case <-eng.push(1).closed:
	case <-time.After(5 * time.Second):
		t.Fatal("push query still running 5s after its client disconnected")
	}
}

func TestTerminate(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	c.send(&pgproto3.Terminate{})
	if _, err := c.fe.Receive(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after Terminate: %v; want the connection closed", err)
	}
}

func TestMaxConns(t *testing.T) {
	srv, _ := startServer(t, Config{MaxConns: 1})
	first := connect(t, srv)
	second := dial(t, srv)
	second.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "u"}})
	equalLines(t, "second connection", []string{describe(second.recv())},
		[]string{"E FATAL 53300 sorry, too many clients already"})
	// The slot frees when the first session ends.
	first.send(&pgproto3.Terminate{})
	for deadline := time.Now().Add(5 * time.Second); ; {
		third := dial(t, srv)
		third.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
			Parameters: map[string]string{"user": "u"}})
		if _, ok := third.recv().(*pgproto3.AuthenticationOk); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slot not freed after Terminate")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseStopsPushQueriesAndConnections(t *testing.T) {
	srv, eng := startServer(t, Config{})
	busy := connect(t, srv)
	idle := connect(t, srv)
	busy.send(&pgproto3.Query{String: "PUSH"})
	busy.readPushRows(1)

	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	<-eng.push(1).closed
	got := busy.until2EOF()
	if len(got) == 0 || got[len(got)-1] != "E FATAL 57P01 terminating connection due to administrator command" {
		t.Errorf("busy connection got %q; want it to end with FATAL 57P01", got)
	}
	equalLines(t, "idle connection", idle.until2EOF(),
		[]string{"E FATAL 57P01 terminating connection due to administrator command"})
	if _, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		t.Error("server still accepts connections after Close")
	}
}

// until2EOF reads messages, skipping push rows, until the server closes.
func (c *client) until2EOF() []string {
	var out []string
	for {
		m, err := c.fe.Receive()
		if err != nil {
			return out
		}
		if s := describe(m); !strings.HasPrefix(s, "D ") {
			out = append(out, s)
		}
	}
}

func TestListenAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := New(&fakeEngine{}, Config{Addr: ln.Addr().String()})
	defer srv.Close()
	err = srv.Listen()
	var inUse interface{ AddrInUse() string }
	if !errors.As(err, &inUse) || inUse.AddrInUse() != ln.Addr().String() {
		t.Fatalf("Listen on a taken port: %v; want an error with AddrInUse() = %s", err, ln.Addr())
	}
}

func TestListenRefusesNonLoopbackWithoutAuth(t *testing.T) {
	srv := New(&fakeEngine{}, Config{Addr: "0.0.0.0:0"})
	defer srv.Close()
	if err := srv.Listen(); !errors.Is(err, ErrInsecureListen) {
		t.Fatalf("Listen on 0.0.0.0: %v; want ErrInsecureListen", err)
	}
	if srv.Addr() != nil {
		t.Fatal("refused listener is still bound")
	}
	ok := New(&fakeEngine{}, Config{Addr: "0.0.0.0:0", AllowNonLoopbackTrust: true})
	defer ok.Close()
	if err := ok.Listen(); err != nil {
		t.Fatalf("Listen on 0.0.0.0 with AllowNonLoopbackTrust: %v", err)
	}
}

func TestUnknownMessageIsAProtocolViolation(t *testing.T) {
	srv, _ := startServer(t, Config{})
	c := connect(t, srv)
	if _, err := c.nc.Write([]byte{'?', 0, 0, 0, 4}); err != nil {
		t.Fatal(err)
	}
	equalLines(t, "after an unknown message", c.until2EOF(),
		[]string{"E FATAL 08P01 invalid message: unknown message type: ?"})
}

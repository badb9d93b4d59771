package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Defaults for Config's zero values.
const (
	DefaultAddr     = "127.0.0.1:7432"
	DefaultMaxConns = 100
)

const (
	// startupTimeout bounds how long a client may take from connecting to
	// sending its StartupMessage, so half-open sockets cannot pin
	// goroutines or connection slots.
	startupTimeout = 10 * time.Second
	// shutdownGrace is how long Close lets a connection write its final
	// messages to a client that does not read before its socket is cut.
	shutdownGrace = 2 * time.Second
)

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on. Default DefaultAddr.
	Addr string
	// Logger receives connection and error logs. Default slog.Default().
	Logger *slog.Logger
	// MaxConns limits concurrent sessions; one more is refused with SQLSTATE
	// 53300. Default DefaultMaxConns.
	MaxConns int
	// Auth is the authentication method. Default AuthTrust.
	Auth AuthMethod
	// Users are the users and their verifiers, for AuthPassword and
	// AuthSCRAM (see ParseUser and LoadUsers).
	Users map[string]Credential
	// TLS, when set, lets clients upgrade to TLS (sslmode=require and
	// stricter): SSLRequest is answered with 'S' and a handshake.
	TLS *tls.Config
	// RequireTLS refuses clients that do not upgrade to TLS.
	RequireTLS bool
	// AllowNonLoopbackTrust lets Listen bind an address other than loopback
	// with AuthTrust, where every client is trusted without a password.
	// This exposes the engine to everyone who can reach the address; it
	// exists for containers whose network is private. Default false: Listen
	// refuses such addresses with ErrInsecureListen.
	AllowNonLoopbackTrust bool
}

// ErrInsecureListen is returned (wrapped) by Listen for a non-loopback
// address without Config.AllowNonLoopbackTrust.
var ErrInsecureListen = errors.New("server: refusing to accept unauthenticated connections on a non-loopback address")

// ErrServerClosed is returned by Listen and Serve after Close.
var ErrServerClosed = errors.New("server: closed")

// AddrInUseError is returned by Listen when its address is taken. It has
// the AddrInUse method the CLI matches for every listener it starts.
type AddrInUseError struct {
	Addr string
	Err  error
}

func (e *AddrInUseError) Error() string {
	return fmt.Sprintf("server: listen on %s: address already in use", e.Addr)
}

func (e *AddrInUseError) Unwrap() error { return e.Err }

// AddrInUse returns the address that is already in use.
func (e *AddrInUseError) AddrInUse() string { return e.Addr }

// Server serves the Postgres wire protocol for an Engine. Its methods are
// safe for concurrent use.
type Server struct {
	eng Engine
	cfg Config
	log *slog.Logger

	// ctx is cancelled by Close; every statement runs under it.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	ln       net.Listener
	closed   bool
	sockets  map[net.Conn]struct{}
	sessions map[uint32]*conn // by process id, after startup
	nextPID  uint32

	wg        sync.WaitGroup // one per accepted socket
	closeOnce sync.Once

	// mockKey derives the salts of unknown users in SCRAM exchanges, so
	// they look like real users' salts and stay the same across attempts.
	mockKey [32]byte
}

// New returns a server for eng; call Listen (or just Serve) to start it.
func New(eng Engine, cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthTrust
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{
		eng:      eng,
		cfg:      cfg,
		log:      cfg.Logger,
		ctx:      ctx,
		cancel:   cancel,
		sockets:  map[net.Conn]struct{}{},
		sessions: map[uint32]*conn{},
	}
	if _, err := rand.Read(srv.mockKey[:]); err != nil {
		srv.log.Error("reading random key", "err", err)
	}
	return srv
}

// Listen binds the configured address. A taken address is an
// *AddrInUseError; a non-loopback address with trust authentication and
// without Config.AllowNonLoopbackTrust is ErrInsecureListen. The check runs on the
// bound address, so host names and 0.0.0.0 are judged by what they resolve
// to.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrServerClosed
	case s.ln != nil:
		return fmt.Errorf("server: already listening on %s", s.ln.Addr())
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return &AddrInUseError{Addr: s.cfg.Addr, Err: err}
		}
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && s.cfg.Auth == AuthTrust && !s.cfg.AllowNonLoopbackTrust {
		ln.Close()
		return fmt.Errorf("%w: %s (configure password or scram-sha-256 authentication, or bind 127.0.0.1)", ErrInsecureListen, s.cfg.Addr)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections until ctx is done or Close is called, and then
// returns nil (after closing the server, when ctx ended it). It calls Listen
// first if needed.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
		s.mu.Lock()
		ln = s.ln
		s.mu.Unlock()
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	s.log.Info("postgres server listening", "addr", ln.Addr().String())

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			// Accept fails transiently when the process runs out of file
			// descriptors; back off instead of spinning, as net/http does.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "backoff", backoff)
				select {
				case <-time.After(backoff):
				case <-s.ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		backoff = 0
		if !s.track(nc) {
			nc.Close()
			return nil
		}
		go s.handle(nc)
	}
}

// track registers an accepted socket so Close can cut it. It reports false
// after Close.
func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sockets[nc] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.sockets, nc)
	s.mu.Unlock()
	s.wg.Done()
}

// Close shuts the server down gracefully: it stops accepting, cancels every
// running statement (push queries end), tells each connected client that the
// server is terminating (FATAL 57P01, as Postgres does on a fast shutdown),
// and closes the connections. It returns when every connection is gone and
// may be called more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		ln := s.ln
		socks := make([]net.Conn, 0, len(s.sockets))
		for nc := range s.sockets {
			socks = append(socks, nc)
		}
		s.mu.Unlock()

		s.cancel()
		if ln != nil {
			ln.Close()
		}
		// Connections notice the cancelled context by themselves; the
		// deadline only unblocks one stuck writing to a client that stopped
		// reading, or reading a startup packet that never comes.
		deadline := time.Now().Add(shutdownGrace)
		for _, nc := range socks {
			nc.SetDeadline(deadline)
		}
	})
	s.wg.Wait()
	return nil
}

// register assigns a process id and secret to a connection that finished
// startup. It fails with tooMany when the server is full and with closed
// after Close.
func (s *Server) register(c *conn) (tooMany, closed bool) {
	var key [4]byte
	if _, err := rand.Read(key[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a zero secret
		// would still only be guessable together with the pid.
		s.log.Error("reading random cancel key", "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, true
	}
	if len(s.sessions) >= s.cfg.MaxConns {
		return true, false
	}
	for {
		s.nextPID++
		if _, used := s.sessions[s.nextPID]; s.nextPID != 0 && !used {
			break
		}
	}
	c.pid = s.nextPID
	c.secret = binary.BigEndian.Uint32(key[:])
	s.sessions[c.pid] = c
	return false, false
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	if s.sessions[c.pid] == c {
		delete(s.sessions, c.pid)
	}
	s.mu.Unlock()
}

// cancelRequest handles a CancelRequest: it cancels the running statement of
// the session with that process id when the secret matches. The protocol
// sends no reply either way, so a wrong key learns nothing.
func (s *Server) cancelRequest(pid, secret uint32) {
	s.mu.Lock()
	c := s.sessions[pid]
	s.mu.Unlock()
	if c == nil {
		s.log.Debug("cancel request for unknown process id", "pid", pid)
		return
	}
	var a, b [4]byte
	binary.BigEndian.PutUint32(a[:], c.secret)
	binary.BigEndian.PutUint32(b[:], secret)
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		s.log.Warn("cancel request with a wrong secret key", "pid", pid)
		return
	}
	c.cancelRunning(errUserCancel)
}

// isClosedConnErr reports errors that just mean the client went away.
func isClosedConnErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.Canceled) ||
		errors.Is(err, os.ErrDeadlineExceeded)
}

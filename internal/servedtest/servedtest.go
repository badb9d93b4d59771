// Package servedtest opens, for tests, an engine with its Postgres-wire
// server as sluice serve runs it: instances of one service forward pull
// queries to the owners of the partitions they read, so tests of several
// instances need each one's server.
package servedtest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/server"
)

// Open opens an engine with opts and the address of its server (a free
// loopback port) as its advertised address, and serves it. The test's
// cleanup closes the server, then the engine.
func Open(t testing.TB, opts ...sluice.Option) (*sluice.Engine, *server.Server) {
	t.Helper()
	// The server needs the engine and the engine its advertised address:
	// take a free port first.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	eng, err := sluice.Open(context.Background(), append(opts, sluice.WithAdvertisedAddr(addr))...)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Adapt(eng), server.Config{Addr: addr, Logger: quiet})
	if err := srv.Listen(); err != nil {
		eng.Close()
		t.Fatalf("listen on %s: %v", addr, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
		eng.Close()
	})
	return eng, srv
}

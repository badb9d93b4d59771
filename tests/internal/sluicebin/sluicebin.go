// Package sluicebin serves the tests that run sluice as users do, as a
// process: it builds the sluice binary once per test binary and finds free
// loopback addresses for its listeners.
package sluicebin

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Main builds cmd/sluice into a temporary directory, sets *binary to its
// path, runs the tests and exits; it is the body of a package's TestMain.
func Main(m *testing.M, binary *string) {
	dir, err := os.MkdirTemp("", "sluice-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary = filepath.Join(dir, "sluice")
	if out, err := exec.Command("go", "build", "-o", *binary, "github.com/sluicedb/sluice/cmd/sluice").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/sluice: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

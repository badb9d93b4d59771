package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// brokerAddrPrefix starts the line a child broker prints once it listens.
const brokerAddrPrefix = "broker-addr="

// ServeBroker runs the embedded broker alone: it starts
// storage.StartBroker on addr with its log in dataDir, prints
// "broker-addr=<host:port>" on stdout and serves until ctx ends or, when
// stdin is not nil, until stdin reaches EOF. Watching stdin ties a child
// broker's life to its parent's (a benchmark's): the pipe closes when the
// parent exits, however it exits, so no broker is left behind.
func ServeBroker(ctx context.Context, dataDir, addr string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	b, err := storage.StartBroker(ctx, storage.BrokerConfig{DataDir: dataDir, Addr: addr, Logger: logger})
	if err != nil {
		return err
	}
	defer b.Close()
	if _, err := fmt.Fprintf(stdout, "%s%s\n", brokerAddrPrefix, strings.Join(b.Addrs(), ",")); err != nil {
		return err
	}
	eof := make(chan struct{})
	if stdin != nil {
		go func() {
			io.Copy(io.Discard, stdin)
			close(eof)
		}()
	}
	select {
	case <-ctx.Done():
	case <-eof:
	}
	return b.Close()
}

// childBroker is a broker running in a child process.
type childBroker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addrs []string
	done  chan error
}

// startChildBroker starts cmd (which must run ServeBroker) and waits for the
// address it listens on.
func startChildBroker(ctx context.Context, cmd *exec.Cmd) (*childBroker, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start broker process: %w", err)
	}
	cb := &childBroker{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), brokerAddrPrefix); ok {
				lines <- rest
				break
			}
		}
		io.Copy(io.Discard, stdout)
		cb.done <- cmd.Wait()
	}()
	select {
	case addr := <-lines:
		cb.addrs = strings.Split(addr, ",")
		return cb, nil
	case err := <-cb.done:
		return nil, fmt.Errorf("broker process exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		cb.kill()
		return nil, errors.New("broker process did not report its address within 30s")
	case <-ctx.Done():
		cb.kill()
		return nil, ctx.Err()
	}
}

// stop asks the child to exit (by closing its stdin) and waits for it; a
// child that does not exit in time is killed.
func (cb *childBroker) stop() error {
	cb.stdin.Close()
	select {
	case err := <-cb.done:
		return err
	case <-time.After(15 * time.Second):
		cb.kill()
		return errors.New("broker process did not exit; killed")
	}
}

func (cb *childBroker) kill() {
	if cb.cmd.Process != nil {
		cb.cmd.Process.Kill()
	}
}

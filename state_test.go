package sluice

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The operator state contract: reads see uncommitted writes, scans are
// ordered and bounded by the operator's prefix, a commit persists state and
// checkpoint together, and a task without a local checkpoint rebuilds its
// state from the changelog topic.
func TestTaskStateCommitAndRestore(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func(dir string) *Engine {
		e, err := Open(ctx, WithBrokers(cluster.ListenAddrs()...), WithDataDir(dir),
			WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	dir := t.TempDir()
	e := open(dir)
	produce := func(r *kgo.Record) { e.producer.Produce(ctx, r, nil) }
	ts := newTaskState(e, "Q_1", 0, false, produce)
	a, err := ts.open("Aggregate")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.open("Other")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := a.Put([]byte(fmt.Sprintf("k%d", i)), []byte(fmt.Sprintf("v%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Put([]byte("k9"), []byte("other")); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete([]byte("k3")); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := a.Get([]byte("k2")); !ok || string(v) != "v2" {
		t.Fatalf("uncommitted read = %q, %v", v, ok)
	}
	scan := func(s interface {
		Scan([]byte, []byte, func(k, v []byte) bool) error
	}, lo, hi []byte) string {
		out := ""
		if err := s.Scan(lo, hi, func(k, v []byte) bool { out += string(k) + "=" + string(v) + " "; return true }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := scan(a, nil, nil); got != "k0=v0 k1=v1 k2=v2 k4=v4 " {
		t.Fatalf("scan = %q", got)
	}
	if got := scan(a, []byte("k1"), []byte("k4")); got != "k1=v1 k2=v2 " {
		t.Fatalf("bounded scan = %q", got)
	}
	if err := e.producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ts.commit(42); err != nil {
		t.Fatal(err)
	}
	if off, ok, err := e.readCheckpoint("Q_1", 0); err != nil || !ok || off != 42 {
		t.Fatalf("checkpoint = %d, %v, %v", off, ok, err)
	}
	ts.close()
	e.Close()

	// A new data directory has no checkpoint: the state comes back from the
	// changelog, tombstones included.
	e2 := open(t.TempDir())
	defer e2.Close()
	ts2 := newTaskState(e2, "Q_1", 0, true, func(*kgo.Record) {})
	defer ts2.close()
	a2, err := ts2.open("Aggregate")
	if err != nil {
		t.Fatal(err)
	}
	if got := scan(a2, nil, nil); got != "k0=v0 k1=v1 k2=v2 k4=v4 " {
		t.Fatalf("restored scan = %q", got)
	}
}

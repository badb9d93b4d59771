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
	ctx, open := stateTestEngine(t)
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
	if err := ts.flush(); err != nil {
		t.Fatal(err)
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

// The write-back cache in front of the task's batch: a cycle's writes are
// spilled once per key (one changelog record with the last value), reads
// stay right when the cache bound empties the cache mid-cycle, and a
// discarded cycle leaves the committed state.
func TestTaskStateCache(t *testing.T) {
	_, open := stateTestEngine(t)
	e := open(t.TempDir())
	defer e.Close()
	var logged []string
	ts := newTaskState(e, "Q_2", 0, false, func(r *kgo.Record) {
		logged = append(logged, string(r.Key)+"="+string(r.Value))
	})
	defer ts.close()
	st, err := ts.open("Aggregate")
	if err != nil {
		t.Fatal(err)
	}
	get := func(k string) string {
		t.Helper()
		v, ok, err := st.Get([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "<absent>"
		}
		return string(v)
	}
	put := func(k, v string) {
		t.Helper()
		if err := st.Put([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
	}

	// Cycle 1: a key changed three times is logged once, with its last value.
	if got := get("a"); got != "<absent>" {
		t.Fatalf("get a = %s", got)
	}
	put("a", "1")
	put("a", "2")
	put("b", "x")
	if err := st.Delete([]byte("b")); err != nil {
		t.Fatal(err)
	}
	put("a", "3")
	if got := get("a"); got != "3" {
		t.Fatalf("get a = %s", got)
	}
	if err := ts.flush(); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(logged); got != "[a=3 b=]" {
		t.Fatalf("changelog of cycle 1 = %s", got)
	}
	if err := ts.commit(1); err != nil {
		t.Fatal(err)
	}

	// Cycle 2 fails: its writes are gone, the committed value is read again.
	logged = nil
	put("a", "4")
	put("c", "5")
	ts.discard()
	if got := get("a") + " " + get("c"); got != "3 <absent>" {
		t.Fatalf("after discard: a, c = %s", got)
	}
	if len(logged) != 0 {
		t.Fatalf("a discarded cycle logged %v", logged)
	}

	// Cycle 3 with a tiny bound: the cache empties while writes go on, and
	// reads and scans still see every write.
	ts.cacheLimit = 300
	for i := range 20 {
		put(fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
	if ts.cached > ts.cacheLimit+200 {
		t.Fatalf("cache holds %d bytes, bound %d", ts.cached, ts.cacheLimit)
	}
	for i := range 20 {
		if got, want := get(fmt.Sprintf("k%02d", i)), fmt.Sprint(i); got != want {
			t.Fatalf("k%02d = %s, want %s", i, got, want)
		}
	}
	n := 0
	if err := st.Scan([]byte("k"), []byte("l"), func(k, v []byte) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	if n != 20 {
		t.Fatalf("scan found %d keys, want 20", n)
	}
	if err := ts.commit(2); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 20 {
		t.Fatalf("cycle 3 logged %d records, want 20", len(logged))
	}
	if v, ok, err := e.state.Get(append(append([]byte(nil), st.(*opStore).prefix...), "k19"...)); err != nil || !ok || string(v) != "19" {
		t.Fatalf("committed k19 = %q, %v, %v", v, ok, err)
	}
}

// stateTestEngine starts an in-process Kafka cluster for the test and
// returns a context and a function that opens an engine on it with its
// data in dir.
func stateTestEngine(t testing.TB) (context.Context, func(dir string) *Engine) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx, func(dir string) *Engine {
		e, err := Open(ctx, WithBrokers(cluster.ListenAddrs()...), WithDataDir(dir),
			WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
}

// BenchmarkTaskState measures an operator's state store as a running query
// uses it (the write-back cache over the task's Pebble batch): a
// read-modify-write of one of 1,000 or 100,000 keys per op, like an
// aggregation updating its group, with a cycle (spill to the batch,
// changelog records, commit) every 4,096 ops. Values are 64 bytes.
func BenchmarkTaskState(b *testing.B) {
	for _, keys := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			_, open := stateTestEngine(b)
			e := open(b.TempDir())
			defer e.Close()
			var logged int
			ts := newTaskState(e, "Q_B", 0, false, func(*kgo.Record) { logged++ })
			defer ts.close()
			st, err := ts.open("Aggregate")
			if err != nil {
				b.Fatal(err)
			}
			key := make([]byte, 9)
			val := make([]byte, 64)
			b.SetBytes(int64(len(key) + len(val)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := uint64(i*7919) % uint64(keys)
				key[0] = 1
				for j := range 8 {
					key[1+j] = byte(k >> (56 - 8*j))
				}
				v, _, err := st.Get(key)
				if err != nil {
					b.Fatal(err)
				}
				val[0] = byte(len(v))
				if err := st.Put(key, val); err != nil {
					b.Fatal(err)
				}
				if i%4096 == 4095 {
					if err := ts.commit(int64(i)); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

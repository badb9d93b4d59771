package storage

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func openState(t testing.TB, dir string, inMemory bool) *State {
	t.Helper()
	s, err := OpenState(dir, inMemory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStateGetSetDelete(t *testing.T) {
	for _, inMemory := range []bool{false, true} {
		t.Run(fmt.Sprintf("inMemory=%v", inMemory), func(t *testing.T) {
			s := openState(t, t.TempDir(), inMemory)
			if _, ok, err := s.Get([]byte("k")); ok || err != nil {
				t.Fatalf("Get(missing) = %v, %v", ok, err)
			}
			if err := s.Set([]byte("k"), []byte("v1"), false); err != nil {
				t.Fatal(err)
			}
			v, ok, err := s.Get([]byte("k"))
			if err != nil || !ok || string(v) != "v1" {
				t.Fatalf("Get = %q, %v, %v", v, ok, err)
			}
			// The returned value is a copy: overwriting the key must not
			// change it.
			if err := s.Set([]byte("k"), []byte("v2"), true); err != nil {
				t.Fatal(err)
			}
			if string(v) != "v1" {
				t.Fatalf("earlier Get result changed to %q", v)
			}
			buf := make([]byte, 0, 16)
			v, ok, err = s.GetInto([]byte("k"), buf)
			if err != nil || !ok || string(v) != "v2" || &v[0] != &buf[:1][0] {
				t.Fatalf("GetInto = %q, %v, %v (reused buffer: %v)", v, ok, err, len(v) > 0 && &v[0] == &buf[:1][0])
			}
			if err := s.Delete([]byte("k"), false); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Get([]byte("k")); ok {
				t.Fatal("key still there after Delete")
			}
		})
	}
}

func TestStatePersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	p := Prefix{NamespaceOperator, "Q1", 2, 0}
	for i := range 100 {
		if err := s.Set(AppendInt64(p.AppendTo(nil), int64(i)), fmt.Appendf(nil, "v%d", i), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutMeta("catalog", []byte("snapshot-1")); err != nil {
		t.Fatal(err)
	}
	// Unsynced writes must survive a clean Close.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := s.Get([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}

	s = openState(t, dir, false)
	v, ok, err := s.Get(AppendInt64(p.AppendTo(nil), 42))
	if err != nil || !ok || string(v) != "v42" {
		t.Fatalf("after reopen Get = %q, %v, %v", v, ok, err)
	}
	meta, ok, err := s.GetMeta("catalog")
	if err != nil || !ok || string(meta) != "snapshot-1" {
		t.Fatalf("after reopen GetMeta = %q, %v, %v", meta, ok, err)
	}
	if _, ok, err := s.GetMeta("other"); ok || err != nil {
		t.Fatalf("GetMeta(other) = %v, %v", ok, err)
	}
}

func TestStateOpenLockedDir(t *testing.T) {
	dir := t.TempDir()
	openState(t, dir, false)
	if _, err := OpenState(dir, false); err == nil {
		t.Fatal("a second OpenState on the same dir succeeded")
	}
}

// TestStateIterPrefixIsolation checks that a prefix scan returns exactly
// the keys of one (query, operator, partition), in encoded order, even next
// to keys of neighbouring prefixes.
func TestStateIterPrefixIsolation(t *testing.T) {
	s := openState(t, t.TempDir(), true)
	prefixes := []Prefix{
		{NamespaceOperator, "Q", 1, 0},
		{NamespaceOperator, "Q", 1, 1},
		{NamespaceOperator, "Q", 2, 0},
		{NamespaceOperator, "Q\x00", 1, 0},
		{NamespaceOperator, "QQ", 1, 0},
		{NamespaceCheckpoint, "Q", 1, 0},
	}
	times := []int64{-10, 0, 5, 1 << 40}
	for _, p := range prefixes {
		for _, ts := range times {
			if err := s.Set(AppendInt64(p.AppendTo(nil), ts), []byte(p.String()), false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.PutMeta("m", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	for _, p := range prefixes {
		it, err := s.Iter(p.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for ok := it.First(); ok; ok = it.Next() {
			gp, rest, err := DecodePrefix(it.Key())
			if err != nil || gp != p || string(it.Value()) != p.String() {
				t.Fatalf("scan of %v returned key of %v (%v)", p, gp, err)
			}
			ts, _, _ := DecodeInt64(rest)
			got = append(got, ts)
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(times) {
			t.Fatalf("scan of %v = %v, want %v", p, got, times)
		}
	}

	// A range scan serves a window: timestamps in [0, 6).
	p := prefixes[0]
	it, err := s.Scan(AppendInt64(p.AppendTo(nil), 0), AppendInt64(p.AppendTo(nil), 6))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if !it.Last() || !bytes.Equal(it.Key(), AppendInt64(p.AppendTo(nil), 5)) {
		t.Fatal("Last is not ts=5")
	}
	it.Close()
	if n != 2 {
		t.Fatalf("window scan returned %d keys, want 2", n)
	}

	// Dropping query Q removes its operator state only.
	if err := s.DeletePrefix(QueryPrefix(NamespaceOperator, "Q"), false); err != nil {
		t.Fatal(err)
	}
	count := func(prefix []byte) int {
		it, err := s.Iter(prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			n++
		}
		return n
	}
	if n := count(QueryPrefix(NamespaceOperator, "Q")); n != 0 {
		t.Fatalf("%d keys of Q left", n)
	}
	for _, q := range []string{"Q\x00", "QQ"} {
		if n := count(QueryPrefix(NamespaceOperator, q)); n != len(times) {
			t.Fatalf("dropping Q removed keys of %q (%d left)", q, n)
		}
	}
	if n := count([]byte{byte(NamespaceCheckpoint)}); n != len(times) {
		t.Fatalf("dropping operator state of Q touched checkpoints (%d left)", n)
	}
	if v, ok, _ := s.GetMeta("m"); !ok || string(v) != "meta" {
		t.Fatal("dropping Q touched metadata")
	}
}

func TestStateBatch(t *testing.T) {
	s := openState(t, t.TempDir(), false)
	b := s.NewBatch()
	defer b.Close()
	for round := range 2 {
		for i := range 10 {
			if err := b.Set(fmt.Appendf(nil, "k%d", i), fmt.Appendf(nil, "r%d", round)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Delete([]byte("k0")); err != nil {
			t.Fatal(err)
		}
		if b.Count() != 11 || b.Len() == 0 {
			t.Fatalf("batch Count = %d, Len = %d", b.Count(), b.Len())
		}
		// Nothing is visible before Commit.
		if v, ok, _ := s.Get([]byte("k5")); round == 0 && ok {
			t.Fatalf("uncommitted write visible: %q", v)
		}
		if err := b.Commit(round == 1); err != nil {
			t.Fatal(err)
		}
		if b.Count() != 0 {
			t.Fatal("batch not emptied by Commit")
		}
		if v, _, _ := s.Get([]byte("k5")); string(v) != fmt.Sprintf("r%d", round) {
			t.Fatalf("round %d: k5 = %q", round, v)
		}
		if _, ok, _ := s.Get([]byte("k0")); ok {
			t.Fatal("deleted key k0 present")
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStatePut models an operator's state writes: unsynced puts of
// fixed-size values under a (query, operator, partition) prefix with an
// int64 key, the durable copy being the changelog topic.
func BenchmarkStatePut(b *testing.B) {
	for _, size := range []int{16, 100, 1024} {
		b.Run(fmt.Sprintf("value=%s", sizeName(size)), func(b *testing.B) {
			s := openState(b, b.TempDir(), false)
			p := Prefix{NamespaceOperator, "Q1", 1, 0}.Bytes()
			val := bytes.Repeat([]byte{'v'}, size)
			key := make([]byte, 0, 64)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := range b.N {
				key = AppendInt64(append(key[:0], p...), int64(i))
				if err := s.Set(key, val, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStateGet models point lookups of a join or aggregation on a
// warm working set of 100k keys (mostly served from the memtable and block
// cache), with GetInto reusing its buffer.
func BenchmarkStateGet(b *testing.B) {
	for _, size := range []int{16, 100, 1024} {
		b.Run(fmt.Sprintf("value=%s", sizeName(size)), func(b *testing.B) {
			s := openState(b, b.TempDir(), false)
			p := Prefix{NamespaceOperator, "Q1", 1, 0}.Bytes()
			val := bytes.Repeat([]byte{'v'}, size)
			const keys = 100_000
			batch := s.NewBatch()
			defer batch.Close()
			for i := range keys {
				if err := batch.Set(AppendInt64(append([]byte(nil), p...), int64(i)), val); err != nil {
					b.Fatal(err)
				}
			}
			if err := batch.Commit(false); err != nil {
				b.Fatal(err)
			}
			key := make([]byte, 0, 64)
			buf := make([]byte, 0, size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := range b.N {
				key = AppendInt64(append(key[:0], p...), int64(i%keys))
				v, ok, err := s.GetInto(key, buf[:0])
				if err != nil || !ok || len(v) != size {
					b.Fatalf("GetInto = %d bytes, %v, %v", len(v), ok, err)
				}
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}

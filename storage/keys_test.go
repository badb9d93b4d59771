package storage

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func sign(x int) int { return cmp.Compare(x, 0) }

func TestKeyOrderIntegers(t *testing.T) {
	ints := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 40, -256, -1, 0, 1, 255, 256, 1 << 40, math.MaxInt64}
	for _, a := range ints {
		for _, b := range ints {
			if got, want := bytes.Compare(AppendInt64(nil, a), AppendInt64(nil, b)), cmp.Compare(a, b); got != want {
				t.Errorf("int64 %d vs %d: encoded compare %d, want %d", a, b, got, want)
			}
			if got, want := bytes.Compare(AppendInt32(nil, int32(a>>32)), AppendInt32(nil, int32(b>>32))), cmp.Compare(int32(a>>32), int32(b>>32)); got != want {
				t.Errorf("int32 %d vs %d: encoded compare %d, want %d", a>>32, b>>32, got, want)
			}
			ua, ub := uint64(a), uint64(b)
			if got, want := bytes.Compare(AppendUint64(nil, ua), AppendUint64(nil, ub)), cmp.Compare(ua, ub); got != want {
				t.Errorf("uint64 %d vs %d: encoded compare %d, want %d", ua, ub, got, want)
			}
		}
		v, rest, err := DecodeInt64(AppendInt64(nil, a))
		if err != nil || v != a || len(rest) != 0 {
			t.Errorf("DecodeInt64(%d) = %d, %x, %v", a, v, rest, err)
		}
		v32, _, err := DecodeInt32(AppendInt32(nil, int32(a)))
		if err != nil || v32 != int32(a) {
			t.Errorf("DecodeInt32(%d) = %d, %v", int32(a), v32, err)
		}
	}
}

func TestKeyOrderFloats(t *testing.T) {
	floats := []float64{math.Inf(-1), -math.MaxFloat64, -1.5, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1, 1.5, math.MaxFloat64, math.Inf(1)}
	for i, a := range floats {
		for j, b := range floats {
			if got := bytes.Compare(AppendFloat64(nil, a), AppendFloat64(nil, b)); got != cmp.Compare(i, j) {
				t.Errorf("float %g vs %g: encoded compare %d", a, b, got)
			}
		}
		v, _, err := DecodeFloat64(AppendFloat64(nil, a))
		if err != nil || v != a {
			t.Errorf("DecodeFloat64(%g) = %g, %v", a, v, err)
		}
	}
	if !bytes.Equal(AppendFloat64(nil, math.Copysign(0, -1)), AppendFloat64(nil, 0)) {
		t.Error("-0 and +0 encode differently")
	}
	nan := AppendFloat64(nil, math.NaN())
	if !bytes.Equal(nan, AppendFloat64(nil, -math.NaN())) || bytes.Compare(nan, AppendFloat64(nil, math.Inf(1))) <= 0 {
		t.Error("NaN is not one value sorting after +Inf")
	}
	if v, _, _ := DecodeFloat64(nan); !math.IsNaN(v) {
		t.Errorf("DecodeFloat64(NaN) = %g", v)
	}
}

// TestKeyOrderTuplesRandom checks both invariants on random (bytes, int64)
// tuples with many zero bytes: encoded order equals tuple order, and
// decoding returns the fields.
func TestKeyOrderTuplesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randBytes := func() []byte {
		b := make([]byte, rng.IntN(5))
		for i := range b {
			b[i] = []byte{0x00, 0x01, 0xFF, 'a', 0xFE}[rng.IntN(5)]
		}
		return b
	}
	type tuple struct {
		s []byte
		n int64
	}
	compareTuples := func(a, b tuple) int {
		if c := bytes.Compare(a.s, b.s); c != 0 {
			return c
		}
		return cmp.Compare(a.n, b.n)
	}
	for range 20000 {
		a := tuple{randBytes(), rng.Int64N(5) - 2}
		b := tuple{randBytes(), rng.Int64N(5) - 2}
		ka := AppendInt64(AppendBytes(nil, a.s), a.n)
		kb := AppendInt64(AppendBytes(nil, b.s), b.n)
		if got, want := bytes.Compare(ka, kb), compareTuples(a, b); sign(got) != want {
			t.Fatalf("(%x,%d) vs (%x,%d): encoded compare %d, want %d", a.s, a.n, b.s, b.n, got, want)
		}
		s, rest, err := DecodeBytes(ka, nil)
		if err != nil || !bytes.Equal(s, a.s) {
			t.Fatalf("DecodeBytes(%x) = %x, %v; want %x", ka, s, err, a.s)
		}
		if n, rest, err := DecodeInt64(rest); err != nil || n != a.n || len(rest) != 0 {
			t.Fatalf("DecodeInt64 after bytes = %d, %x, %v", n, rest, err)
		}
	}
}

func FuzzKeyStringOrder(f *testing.F) {
	f.Add("", "a")
	f.Add("a\x00", "a")
	f.Add("a\x00\x01", "a\x01")
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, kb := AppendString(nil, a), AppendString(nil, b)
		if sign(bytes.Compare(ka, kb)) != cmp.Compare(a, b) {
			t.Fatalf("%q vs %q: order not preserved (%x vs %x)", a, b, ka, kb)
		}
		if a != b && (bytes.HasPrefix(ka, kb) || bytes.HasPrefix(kb, ka)) {
			t.Fatalf("%q and %q: one encoding is a prefix of the other", a, b)
		}
		if got, rest, err := DecodeString(ka); err != nil || got != a || len(rest) != 0 {
			t.Fatalf("DecodeString(%x) = %q, %x, %v", ka, got, rest, err)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	for _, b := range [][]byte{nil, {'a'}, {'a', 0x00}, {'a', 0x00, 0x02}} {
		if _, _, err := DecodeBytes(b, nil); err == nil {
			t.Errorf("DecodeBytes(%x) succeeded", b)
		}
	}
	if _, _, err := DecodeUint64([]byte{1, 2, 3}); err == nil {
		t.Error("DecodeUint64 of 3 bytes succeeded")
	}
	if _, _, err := DecodePrefix(nil); err == nil {
		t.Error("DecodePrefix(nil) succeeded")
	}
}

func TestPrefix(t *testing.T) {
	p := Prefix{Namespace: NamespaceOperator, Query: "CTAS_ORDERS_1", Operator: 7, Partition: 3}
	key := AppendInt64(p.AppendTo(nil), -5)
	got, rest, err := DecodePrefix(key)
	if err != nil || got != p {
		t.Fatalf("DecodePrefix = %+v, %v; want %+v", got, err, p)
	}
	if v, _, _ := DecodeInt64(rest); v != -5 {
		t.Fatalf("suffix = %d", v)
	}
	if !bytes.Equal(p.Bytes(), p.AppendTo(nil)) {
		t.Fatal("Bytes != AppendTo(nil)")
	}
	// A query id that extends another never shares its query prefix.
	q1 := QueryPrefix(NamespaceOperator, "Q1")
	q10 := Prefix{Namespace: NamespaceOperator, Query: "Q10"}.Bytes()
	if bytes.HasPrefix(q10, q1) {
		t.Fatal("Q10's keys fall under Q1's prefix")
	}
	if !bytes.HasPrefix(key, QueryPrefix(NamespaceOperator, "CTAS_ORDERS_1")) {
		t.Fatal("key not under its query prefix")
	}
	// Partition -1 (shared state) sorts before partition 0.
	shared := Prefix{NamespaceOperator, "Q", 1, -1}.Bytes()
	part0 := Prefix{NamespaceOperator, "Q", 1, 0}.Bytes()
	if bytes.Compare(shared, part0) >= 0 {
		t.Fatal("partition -1 does not sort first")
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xFF}, []byte{2}},
		{[]byte{0xFF, 0xFF}, nil},
		{nil, nil},
	}
	for _, c := range cases {
		if got := PrefixEnd(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
	in := []byte{1, 2}
	PrefixEnd(in)
	if !slices.Equal(in, []byte{1, 2}) {
		t.Error("PrefixEnd modified its argument")
	}
}

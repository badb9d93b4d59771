package expr

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// TestDecMulFastPathMatchesExact checks mulSmall against the big.Int path
// it short-cuts, around the edges where it must decline: int64 overflow,
// precision overflow, negative operands, and scales it does not handle.
func TestDecMulFastPathMatchesExact(t *testing.T) {
	exact := func(a, b Decimal, p, s int32) (Decimal, error) {
		x := a.V.BigInt()
		x.Mul(x, b.V.BigInt())
		return decFromBig(roundExact(x, a.Scale+b.Scale-s), p, s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	vals := []int64{0, 1, -1, 908, -908, 99999, math.MaxInt64, math.MinInt64, math.MaxInt32, 1 << 40, -(1 << 40), 3037000499, 3037000500}
	for range 2000 {
		vals = append(vals, r.Int64N(1<<(r.IntN(62)+1))*int64(1-2*r.IntN(2)))
	}
	big128 := decimal128.FromBigInt(new(big.Int).Lsh(big.NewInt(1), 80))
	for i := range 20000 {
		a := Decimal{V: decimal128.FromI64(vals[r.IntN(len(vals))]), Scale: int32(r.IntN(4))}
		b := Decimal{V: decimal128.FromI64(vals[r.IntN(len(vals))]), Scale: int32(r.IntN(4))}
		if i%97 == 0 {
			a.V = big128
		}
		s := a.Scale + b.Scale
		if i%5 == 0 {
			s-- // a capped scale: the fast path must decline
		}
		p := int32(r.IntN(38) + 1)
		want, werr := exact(a, b, p, s)
		got, gerr := decMul(a, b, p, s)
		if (werr != nil) != (gerr != nil) || (werr == nil && got != want) {
			t.Fatalf("decMul(%v, %v, %d, %d) = %v, %v; exact %v, %v", a, b, p, s, got, gerr, want, werr)
		}
	}
}

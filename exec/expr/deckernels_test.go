package expr

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// The DECIMAL kernels must give exactly what the row path gives: the same
// values, the same NULLs and the same row errors. These tests run both over
// random columns whose values cluster around the fast path's edges (int64
// overflow, precision overflow, zero divisors, inexact quotients, values
// wider than an int64).

// randUnscaled draws an unscaled value: small, near a power of ten, near the
// int64 limits, or (rarely) wider than an int64.
func randUnscaled(r *rand.Rand, prec int32) decimal128.Num {
	var v *big.Int
	switch r.IntN(6) {
	case 0:
		v = big.NewInt(r.Int64N(2000) - 1000)
	case 1:
		k := r.Int64N(int64(prec)) + 1
		v = new(big.Int).Exp(big.NewInt(10), big.NewInt(k), nil)
		v.Sub(v, big.NewInt(r.Int64N(3)))
	case 2:
		v = big.NewInt(math.MaxInt64 - r.Int64N(3))
	case 3:
		v = big.NewInt(0)
	case 4:
		v = new(big.Int).Lsh(big.NewInt(1), 70)
	default:
		v = big.NewInt(r.Int64N(1 << uint(r.IntN(62)+1)))
	}
	if r.IntN(2) == 0 {
		v.Neg(v)
	}
	// Keep the value inside the column's precision, as real columns are.
	lim := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec)), nil)
	v.Rem(v, lim)
	return decimal128.FromBigInt(v)
}

// randColumn builds a column of t with some NULLs.
func randColumn(r *rand.Rand, t arrow.DataType, n int) arrow.Array {
	b := NewBuilder(t)
	defer b.Release()
	for i := 0; i < n; i++ {
		if r.IntN(10) == 0 {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int32Builder:
			vals := []int32{0, 1, -1, 7, math.MaxInt32, math.MinInt32, int32(r.Uint32())}
			b.Append(vals[r.IntN(len(vals))])
		case *array.Int64Builder:
			vals := []int64{0, 1, -1, 908, math.MaxInt64, math.MinInt64, r.Int64N(1 << 40), int64(r.Uint64())}
			b.Append(vals[r.IntN(len(vals))])
		case *array.Decimal128Builder:
			b.Append(randUnscaled(r, t.(*arrow.Decimal128Type).Precision))
		case *array.Float64Builder:
			b.Append(r.NormFloat64() * 1e6)
		}
	}
	return b.NewArray()
}

type rowResult struct {
	v   any
	err string
}

// evalBoth runs n through its compiled kernel and row by row through its
// function's Impl (or castValue), returning both results per row.
func evalBoth(t *testing.T, n Node, cols []arrow.Array) (kernel, row []rowResult) {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("C%d", i), Type: c.DataType(), Nullable: true}
	}
	rows := cols[0].Len()
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, int64(rows))
	defer rec.Release()
	e, err := Compile(n)
	if err != nil {
		t.Fatalf("Compile(%s): %v", n, err)
	}
	kernel = make([]rowResult, rows)
	ctx := &Ctx{OnRowError: func(i int, err error) { kernel[i].err = err.Error() }}
	out, err := e.Eval(ctx, rec)
	if err != nil {
		t.Fatalf("Eval(%s): %v", n, err)
	}
	defer out.Release()
	for i := 0; i < rows; i++ {
		kernel[i].v = ValueAt(out, i)
	}

	row = make([]rowResult, rows)
	for i := 0; i < rows; i++ {
		var v any
		var err error
		switch n := n.(type) {
		case *Call:
			args := []any{ValueAt(cols[0], i), ValueAt(cols[1], i)}
			if args[0] == nil || args[1] == nil {
				break
			}
			if v, err = n.Fn.Impl(args); err == nil {
				// Through a builder of the result type, as runGeneric does.
				b := NewBuilder(n.Type)
				if err = AppendValue(b, v); err == nil {
					a := b.NewArray()
					v = ValueAt(a, 0)
					a.Release()
				}
				b.Release()
			}
		case *Cast:
			if v, err = castValue(ValueAt(cols[0], i), n.X.DataType(), n.Type); err == nil && v != nil {
				b := NewBuilder(n.Type)
				if err = AppendValue(b, v); err == nil {
					a := b.NewArray()
					v = ValueAt(a, 0)
					a.Release()
				}
				b.Release()
			}
		}
		if err != nil {
			row[i].err = (&RowError{Func: funcName(n), Err: err}).Error()
			v = nil
		}
		row[i].v = v
	}
	return kernel, row
}

func funcName(n Node) string {
	if c, ok := n.(*Call); ok {
		return c.Fn.Name
	}
	return ""
}

func sameResult(a, b rowResult) bool {
	if a.err != b.err {
		return false
	}
	if fa, ok := a.v.(float64); ok {
		fb, ok := b.v.(float64)
		return ok && (fa == fb || math.IsNaN(fa) && math.IsNaN(fb))
	}
	return a.v == b.v
}

var decKernelTypes = []arrow.DataType{
	IntType, BigintType,
	DecimalType(3, 3), DecimalType(5, 2), DecimalType(10, 0), DecimalType(18, 4), DecimalType(19, 2),
	DecimalType(23, 3), DecimalType(38, 10), DecimalType(38, 0),
}

func TestDecimalArithKernelMatchesRowPath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows = 300
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		for _, ta := range decKernelTypes {
			for _, tb := range decKernelTypes {
				if kindOf(ta) != kDecimal && kindOf(tb) != kDecimal {
					continue
				}
				a, b := randColumn(r, ta, rows), randColumn(r, tb, rows)
				n := call(t, op, &Col{Index: 0, Name: "C0", Type: ta}, &Col{Index: 1, Name: "C1", Type: tb})
				kernel, row := evalBoth(t, n, []arrow.Array{a, b})
				for i := range kernel {
					if !sameResult(kernel[i], row[i]) {
						t.Fatalf("%s %s %s row %d (%v, %v): kernel %v %q, row path %v %q", TypeName(ta), op, TypeName(tb), i,
							ValueAt(a, i), ValueAt(b, i), kernel[i].v, kernel[i].err, row[i].v, row[i].err)
					}
				}
				a.Release()
				b.Release()
			}
		}
	}
}

func TestDecimalCastKernelsMatchRowPath(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const rows = 400
	targets := append([]arrow.DataType{DoubleType}, decKernelTypes...)
	for _, from := range decKernelTypes {
		for _, to := range targets {
			if typesEqual(from, to) || (kindOf(from) != kDecimal && kindOf(to) != kDecimal) {
				continue
			}
			x := randColumn(r, from, rows)
			n := &Cast{X: &Col{Index: 0, Name: "C0", Type: from}, Type: to}
			kernel, row := evalBoth(t, n, []arrow.Array{x})
			for i := range kernel {
				if !sameResult(kernel[i], row[i]) {
					t.Fatalf("CAST(%v AS %s) from %s row %d: kernel %v %q, row path %v %q", ValueAt(x, i), TypeName(to), TypeName(from), i,
						kernel[i].v, kernel[i].err, row[i].v, row[i].err)
				}
			}
			x.Release()
		}
	}
}

// TestDecimalToDoubleFastPath checks the division shortcut against the
// text round trip on values where both apply.
func TestDecimalToDoubleFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		u := r.Int64N(1<<53+1) * int64(1-2*r.IntN(2))
		s := int32(r.IntN(23))
		d := Decimal{V: decimal128.FromI64(u), Scale: s}
		if got, want := decimalToFloat(d.V, s), decToFloat(d); got != want {
			t.Fatalf("%s: %v, text round trip %v", decString(d), got, want)
		}
	}
}

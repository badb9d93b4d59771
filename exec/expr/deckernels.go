package expr

import (
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Column kernels for DECIMAL arithmetic and the casts into and out of
// DECIMAL. The row path (decimal.go) is exact for every input but boxes
// each value and works on big.Int; almost all values met in practice
// (prices, rates, amounts) have unscaled values that fit an int64, and for
// those the exact result can be computed with checked int64 arithmetic. The
// kernels do that and hand every row they cannot prove exact (int64
// overflow, a precision overflow, division by zero, a remainder that needs
// rounding, a capped result scale) to the row path, so results and row
// errors are the row path's by construction.

// decCol reads one operand of a DECIMAL kernel: an INT, BIGINT or DECIMAL
// column. Integers have scale 0, as asDecimal gives them.
type decCol struct {
	arr   arrow.Array
	i32   []int32
	i64   []int64
	dec   []decimal128.Num
	kind  kind
	scale int32
}

func newDecCol(a arrow.Array) (decCol, bool) {
	c := decCol{arr: a, kind: kindOf(a.DataType())}
	switch a := a.(type) {
	case *array.Int32:
		c.i32 = a.Int32Values()
	case *array.Int64:
		c.i64 = a.Int64Values()
	case *array.Decimal128:
		c.dec = a.Values()
		c.scale = a.DataType().(*arrow.Decimal128Type).Scale
	default:
		return c, false
	}
	return c, true
}

// small returns row i's unscaled value when it fits an int64.
func (c *decCol) small(i int) (int64, bool) {
	switch c.kind {
	case kBigint:
		return c.i64[i], true
	case kInt:
		return int64(c.i32[i]), true
	}
	v := c.dec[i]
	if !fitsI64(v) {
		return 0, false
	}
	return int64(v.LowBits()), true
}

// newDecOutput allocates the value buffer of n DECIMAL128 results.
func newDecOutput(n int) (*memory.Buffer, []decimal128.Num) {
	buf := memory.NewResizableBuffer(mem())
	buf.Resize(n * arrow.Decimal128SizeBytes)
	if n == 0 {
		return buf, nil
	}
	return buf, arrow.GetData[decimal128.Num](buf.Bytes())[:n]
}

// decArithKernel computes a op b into res (the type arithResultType gave),
// on the int64 fast path where it is exact and through fn.Impl (the row
// path) elsewhere.
func decArithKernel(op arithOp, fn *Func, res *arrow.Decimal128Type) KernelFunc {
	p, s := res.Precision, res.Scale
	return func(ctx *Ctx, args []arrow.Array, n int) (arrow.Array, error) {
		x, okx := newDecCol(args[0])
		y, oky := newDecCol(args[1])
		if !okx || !oky {
			// A NULL-typed operand: every row is NULL (NullOnNull).
			return MakeArray(res, nil, n), nil
		}
		valid, nulls := combinedValidity(x.arr, y.arr, n)
		vbuf, out := newDecOutput(n)
		var vals [2]any
		for i := 0; i < n; i++ {
			if valid != nil && !bitutil.BitIsSet(valid.Bytes(), i) {
				out[i] = decimal128.Num{}
				continue
			}
			if xv, ok := x.small(i); ok {
				if yv, ok := y.small(i); ok {
					if v, ok := decSmallArith(op, xv, x.scale, yv, y.scale, p, s); ok {
						out[i] = decimal128.FromI64(v)
						continue
					}
				}
			}
			vals[0], vals[1] = ValueAt(x.arr, i), ValueAt(y.arr, i)
			v, err := fn.Impl(vals[:])
			var num decimal128.Num
			if err == nil {
				num, err = decimalNum(v, res)
			}
			if err != nil {
				valid, nulls = clearValid(valid, n, i, nulls)
				reportRow(ctx, i, fn.Name, err)
				num = decimal128.Num{}
			}
			out[i] = num
		}
		return makeFixed(res, n, valid, nulls, vbuf), nil
	}
}

// decSmallArith is x op y for unscaled int64 operands of scales sx and sy,
// giving the unscaled result at scale s. ok is false when the int64 result
// would not be exactly the row path's (see the file comment): the caller
// then runs the row path, which also reports the errors.
func decSmallArith(op arithOp, x int64, sx int32, y int64, sy int32, p, s int32) (v int64, ok bool) {
	switch op {
	case opMul:
		if sx+sy != s {
			return 0, false // the scale was capped: the row path rounds
		}
		v, ok = mulI64(x, y)
	case opAdd, opSub, opRem:
		if sx > s || sy > s {
			return 0, false
		}
		if x, ok = scaleUpI64(x, s-sx); !ok {
			return 0, false
		}
		if y, ok = scaleUpI64(y, s-sy); !ok {
			return 0, false
		}
		switch op {
		case opAdd:
			v, ok = addI64(x, y)
		case opSub:
			if y == math.MinInt64 {
				return 0, false
			}
			v, ok = addI64(x, -y)
		default:
			if y == 0 {
				return 0, false
			}
			v = x % y // truncated, the sign of x: big.Int.Rem
		}
	case opDiv:
		// a/b at scale s is (x * 10^(s-sx+sy)) / y, and must be exact.
		shift := s - sx + sy
		if shift < 0 {
			if y, ok = scaleUpI64(y, -shift); !ok {
				return 0, false
			}
		} else if x, ok = scaleUpI64(x, shift); !ok {
			return 0, false
		}
		if y == 0 || (x == math.MinInt64 && y == -1) || x%y != 0 {
			return 0, false
		}
		v, ok = x/y, true
	}
	if !ok || !fitsPrecision(v, p) {
		return 0, false
	}
	return v, true
}

// mulI64 multiplies with an overflow check.
func mulI64(x, y int64) (int64, bool) {
	if x == math.MinInt64 || y == math.MinInt64 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(abs64(x)), uint64(abs64(y)))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	v := int64(lo)
	if (x < 0) != (y < 0) {
		v = -v
	}
	return v, true
}

// addI64 adds with an overflow check.
func addI64(x, y int64) (int64, bool) {
	v := x + y
	if (x >= 0) == (y >= 0) && (v >= 0) != (x >= 0) {
		return 0, false
	}
	return v, true
}

// scaleUpI64 multiplies x by 10^k (k >= 0) with an overflow check.
func scaleUpI64(x int64, k int32) (int64, bool) {
	if k == 0 {
		return x, true
	}
	if k < 0 || int(k) >= len(pow10I64) {
		return 0, false
	}
	return mulI64(x, pow10I64[k])
}

// fitsPrecision reports whether |v| < 10^p, the check fitDecimal makes.
func fitsPrecision(v int64, p int32) bool {
	if p >= int32(len(pow10I64)) {
		return true // 10^19 exceeds every int64
	}
	if p < 0 {
		return false
	}
	return v > -pow10I64[p] && v < pow10I64[p]
}

// castDecimalFast converts to, from and between DECIMALs with typed loops:
// INT/BIGINT -> DECIMAL, DECIMAL -> DECIMAL, DECIMAL -> INT/BIGINT/DOUBLE.
// Rows off the int64 fast path go through castValue, whose errors are
// reported as castEval's are. It returns nil for other conversions.
func castDecimalFast(ctx *Ctx, x arrow.Array, from, to arrow.DataType) arrow.Array {
	kf, kt := kindOf(from), kindOf(to)
	switch {
	case kt == kDecimal && (kf == kInt || kf == kBigint || kf == kDecimal):
		return castToDecimalKernel(ctx, x, from, to.(*arrow.Decimal128Type))
	case kf == kDecimal && (kt == kInt || kt == kBigint || kt == kDouble):
		return castFromDecimalKernel(ctx, x, from, to)
	}
	return nil
}

func copyValidity(x arrow.Array, n int) *memory.Buffer {
	if x.NullN() == 0 {
		return nil
	}
	valid := newBoolOutput(n)
	bitutil.CopyBitmap(x.NullBitmapBytes(), x.Data().Offset(), n, valid.Bytes(), 0)
	return valid
}

func castToDecimalKernel(ctx *Ctx, x arrow.Array, from arrow.DataType, to *arrow.Decimal128Type) arrow.Array {
	c, ok := newDecCol(x)
	if !ok {
		return nil
	}
	n := x.Len()
	p, s := to.Precision, to.Scale
	valid, nulls := copyValidity(x, n), x.NullN()
	vbuf, out := newDecOutput(n)
	for i := 0; i < n; i++ {
		if valid != nil && !bitutil.BitIsSet(valid.Bytes(), i) {
			out[i] = decimal128.Num{}
			continue
		}
		if v, ok := c.small(i); ok {
			if v, ok := rescaleHalfUpI64(v, c.scale, s); ok && fitsPrecision(v, p) {
				out[i] = decimal128.FromI64(v)
				continue
			}
		}
		v, err := castValue(ValueAt(x, i), from, to)
		var num decimal128.Num
		if err == nil {
			num, err = decimalNum(v, to)
		}
		if err != nil {
			valid, nulls = clearValid(valid, n, i, nulls)
			reportRow(ctx, i, "", err)
			num = decimal128.Num{}
		}
		out[i] = num
	}
	return makeFixed(to, n, valid, nulls, vbuf)
}

// rescaleHalfUpI64 is decRescaleHalfUp on an int64 unscaled value: scaling
// up multiplies (checked), scaling down rounds HALF_UP.
func rescaleHalfUpI64(v int64, from, to int32) (int64, bool) {
	if to >= from {
		return scaleUpI64(v, to-from)
	}
	k := from - to
	if int(k) >= len(pow10I64) {
		return 0, false
	}
	d := pow10I64[k]
	q, r := v/d, v%d
	if 2*abs64(r) >= d { // r < d <= 10^18, so 2|r| cannot overflow
		if v < 0 {
			q--
		} else {
			q++
		}
	}
	return q, true
}

func castFromDecimalKernel(ctx *Ctx, x arrow.Array, from, to arrow.DataType) arrow.Array {
	c, ok := newDecCol(x)
	if !ok {
		return nil
	}
	n := x.Len()
	kt := kindOf(to)
	valid, nulls := copyValidity(x, n), x.NullN()
	switch kt {
	case kDouble:
		vbuf, out := newOutput[float64](n)
		for i := range out {
			if valid != nil && !bitutil.BitIsSet(valid.Bytes(), i) {
				out[i] = 0
				continue
			}
			out[i] = decimalToFloat(c.dec[i], c.scale)
		}
		return makeFixed(to, n, valid, nulls, vbuf)
	case kBigint:
		vbuf, out := newOutput[int64](n)
		for i := range out {
			if valid != nil && !bitutil.BitIsSet(valid.Bytes(), i) {
				out[i] = 0
				continue
			}
			out[i] = decimalTrunc(c.dec[i], c.scale)
		}
		return makeFixed(to, n, valid, nulls, vbuf)
	default: // kInt: Java's (int) of longValue keeps the low 32 bits
		vbuf, out := newOutput[int32](n)
		for i := range out {
			if valid != nil && !bitutil.BitIsSet(valid.Bytes(), i) {
				out[i] = 0
				continue
			}
			out[i] = int32(decimalTrunc(c.dec[i], c.scale))
		}
		return makeFixed(to, n, valid, nulls, vbuf)
	}
}

// pow10F64[i] is 10^i, exact as a double for i <= 22.
var pow10F64 = func() (t [23]float64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// decimalToFloat is decToFloat without the text round trip when the
// unscaled value and 10^scale are both exact doubles: IEEE division of
// exact operands is correctly rounded, which is what parsing the decimal
// text gives.
func decimalToFloat(v decimal128.Num, scale int32) float64 {
	if fitsI64(v) && scale >= 0 && int(scale) < len(pow10F64) {
		if u := int64(v.LowBits()); u >= -(1<<53) && u <= 1<<53 {
			return float64(u) / pow10F64[scale]
		}
	}
	return decToFloat(Decimal{V: v, Scale: scale})
}

// decimalTrunc is decTruncInt64 (truncate toward zero, keep the low 64
// bits) without big.Int when the unscaled value fits an int64.
func decimalTrunc(v decimal128.Num, scale int32) int64 {
	if fitsI64(v) && scale >= 0 && int(scale) < len(pow10I64) {
		return int64(v.LowBits()) / pow10I64[scale]
	}
	return decTruncInt64(Decimal{V: v, Scale: scale})
}

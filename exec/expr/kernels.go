package expr

import (
	"errors"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Hand-written column kernels. Arrow's compute package has arithmetic and
// comparison kernels, but they do not fit ksqlDB's semantics (a comparison
// with NULL is FALSE, not NULL; integer division by zero nulls one row and
// reports it instead of failing the batch) and their executor allocates
// datums and spans per call. These loops run over the raw value slices, so
// the steady state allocates only the output buffers.

type number interface{ int32 | int64 | float64 }

func mem() memory.Allocator { return memory.DefaultAllocator }

// newOutput allocates a value buffer of n T's for a result of type t.
func newOutput[T number](n int) (*memory.Buffer, []T) {
	var zero T
	size := int(sizeOf(zero))
	buf := memory.NewResizableBuffer(mem())
	buf.Resize(n * size)
	if n == 0 {
		return buf, nil
	}
	return buf, arrow.GetData[T](buf.Bytes())[:n]
}

func sizeOf[T number](v T) uintptr {
	switch any(v).(type) {
	case int32:
		return 4
	}
	return 8
}

func valuesOf[T number](a arrow.Array) []T {
	if a.Len() == 0 {
		return nil
	}
	return arrow.GetValues[T](a.Data(), 1)
}

// combinedValidity returns the AND of a's and b's validity as a new bitmap,
// or nil when neither has nulls.
func combinedValidity(a, b arrow.Array, n int) (*memory.Buffer, int) {
	an, bn := a.NullN() > 0, b.NullN() > 0
	if !an && !bn {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem())
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	out := buf.Bytes()
	switch {
	case an && bn:
		bitutil.BitmapAnd(a.NullBitmapBytes(), b.NullBitmapBytes(), int64(a.Data().Offset()), int64(b.Data().Offset()), out, 0, int64(n))
	case an:
		bitutil.CopyBitmap(a.NullBitmapBytes(), a.Data().Offset(), n, out, 0)
	default:
		bitutil.CopyBitmap(b.NullBitmapBytes(), b.Data().Offset(), n, out, 0)
	}
	return buf, n - bitutil.CountSetBits(out, 0, n)
}

func makeFixed(t arrow.DataType, n int, valid *memory.Buffer, nulls int, vals *memory.Buffer) arrow.Array {
	d := array.NewData(t, n, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	a := array.MakeFromData(d)
	d.Release()
	if valid != nil {
		valid.Release()
	}
	vals.Release()
	return a
}

type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opRem
)

var errIntDivZero = errors.New("/ by zero")

// arithKernel computes a op b over two columns of T (Java semantics:
// integer overflow wraps, integer division truncates, x/0 and x%0 on
// integers are row errors, doubles follow IEEE 754).
func arithKernel[T number](op arithOp, t arrow.DataType, name string) KernelFunc {
	return func(ctx *Ctx, args []arrow.Array, n int) (arrow.Array, error) {
		a, b := args[0], args[1]
		valid, nulls := combinedValidity(a, b, n)
		vbuf, out := newOutput[T](n)
		if n == 0 {
			return makeFixed(t, 0, valid, 0, vbuf), nil
		}
		x, y := valuesOf[T](a), valuesOf[T](b)
		switch op {
		case opAdd:
			for i := range out {
				out[i] = x[i] + y[i]
			}
		case opSub:
			for i := range out {
				out[i] = x[i] - y[i]
			}
		case opMul:
			for i := range out {
				out[i] = x[i] * y[i]
			}
		case opDiv, opRem:
			var zero T
			if _, isFloat := any(zero).(float64); isFloat {
				xf, yf := any(x).([]float64), any(y).([]float64)
				of := any(out).([]float64)
				for i := range of {
					if op == opDiv {
						of[i] = xf[i] / yf[i]
					} else {
						of[i] = math.Mod(xf[i], yf[i])
					}
				}
				break
			}
			for i := range out {
				if y[i] == 0 {
					if valid == nil || bitutil.BitIsSet(valid.Bytes(), i) {
						valid, nulls = clearValid(valid, n, i, nulls)
						reportRow(ctx, i, name, errIntDivZero)
					}
					out[i] = 0
					continue
				}
				out[i] = intDivRem(op, x[i], y[i])
			}
		}
		return makeFixed(t, n, valid, nulls, vbuf), nil
	}
}

// intDivRem handles MinInt / -1 the Java way (wraps) instead of panicking.
func intDivRem[T number](op arithOp, x, y T) T {
	if y == -1 {
		if op == opDiv {
			return -x
		}
		return 0
	}
	if op == opDiv {
		return x / y
	}
	return T(int64(x) % int64(y))
}

// clearValid marks row i NULL, materialising an all-valid bitmap if needed.
func clearValid(valid *memory.Buffer, n, i, nulls int) (*memory.Buffer, int) {
	if valid == nil {
		valid = memory.NewResizableBuffer(mem())
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.SetBitsTo(valid.Bytes(), 0, int64(n), true)
	}
	bitutil.ClearBit(valid.Bytes(), i)
	return valid, nulls + 1
}

func negKernel[T number](t arrow.DataType) KernelFunc {
	return func(_ *Ctx, args []arrow.Array, n int) (arrow.Array, error) {
		a := args[0]
		var valid *memory.Buffer
		if a.NullN() > 0 {
			valid = memory.NewResizableBuffer(mem())
			valid.Resize(int(bitutil.BytesForBits(int64(n))))
			bitutil.CopyBitmap(a.NullBitmapBytes(), a.Data().Offset(), n, valid.Bytes(), 0)
		}
		vbuf, out := newOutput[T](n)
		x := valuesOf[T](a)
		for i := range out {
			out[i] = -x[i]
		}
		return makeFixed(t, n, valid, a.NullN(), vbuf), nil
	}
}

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// newBoolOutput allocates a zeroed bit-packed boolean buffer.
func newBoolOutput(n int) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem())
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	clear(buf.Bytes())
	return buf
}

// cmpKernel compares two columns of T. Following ksqlDB, a comparison with a
// NULL operand is FALSE, never NULL, so the result has no validity bitmap.
func cmpKernel[T number](op cmpOp) KernelFunc {
	return func(_ *Ctx, args []arrow.Array, n int) (arrow.Array, error) {
		a, b := args[0], args[1]
		buf := newBoolOutput(n)
		if n == 0 {
			return makeBool(n, nil, 0, buf), nil
		}
		out := buf.Bytes()
		x, y := valuesOf[T](a), valuesOf[T](b)
		cmpLoop(op, x, y, out)
		andValidity(out, a, b, n)
		return makeBool(n, nil, 0, buf), nil
	}
}

// cmpLoop is specialised per operator so the inner loop is branch-light.
func cmpLoop[T number](op cmpOp, x, y []T, out []byte) {
	n := len(x)
	switch op {
	case cmpEq:
		for i := 0; i < n; i++ {
			if x[i] == y[i] {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	case cmpNe:
		for i := 0; i < n; i++ {
			if x[i] != y[i] {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	case cmpLt:
		for i := 0; i < n; i++ {
			if x[i] < y[i] {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	case cmpLe:
		for i := 0; i < n; i++ {
			if x[i] <= y[i] {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	case cmpGt:
		for i := 0; i < n; i++ {
			if x[i] > y[i] {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	case cmpGe:
		for i := 0; i < n; i++ {
			if x[i] >= y[i] {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	}
}

// andValidity clears result bits of rows where either operand is NULL.
func andValidity(out []byte, a, b arrow.Array, n int) {
	for _, x := range [2]arrow.Array{a, b} {
		if x.NullN() == 0 {
			continue
		}
		bitutil.BitmapAnd(out, x.NullBitmapBytes(), 0, int64(x.Data().Offset()), out, 0, int64(n))
	}
}

func makeBool(n int, valid *memory.Buffer, nulls int, vals *memory.Buffer) arrow.Array {
	return makeFixed(BooleanType, n, valid, nulls, vals)
}

// Three-valued boolean logic on bit-packed columns. With validity V and
// value bits X (X is 0 where V is 0 in our outputs, but inputs may carry
// garbage under NULL, so mask first):
//
//	AND: true  = Xa & Xb ;  false = (Va & ~Xa) | (Vb & ~Xb)
//	OR:  true  = Xa | Xb ;  false = (Va & ~Xa) & (Vb & ~Xb)
//
// and the result is valid where it is true or false.
func logicKernel(isAnd bool) KernelFunc {
	return func(_ *Ctx, args []arrow.Array, n int) (arrow.Array, error) {
		a, b := args[0], args[1]
		nb := int(bitutil.BytesForBits(int64(n)))
		ta, fa := boolPlanes(a, n, nb)
		tb, fb := boolPlanes(b, n, nb)
		vals := newBoolOutput(n)
		out := vals.Bytes()
		anyNull := a.NullN() > 0 || b.NullN() > 0
		var valid *memory.Buffer
		var vb []byte
		if anyNull {
			valid = newBoolOutput(n)
			vb = valid.Bytes()
		}
		for i := 0; i < nb; i++ {
			var t, f byte
			if isAnd {
				t, f = ta[i]&tb[i], fa[i]|fb[i]
			} else {
				t, f = ta[i]|tb[i], fa[i]&fb[i]
			}
			out[i] = t
			if anyNull {
				vb[i] = t | f
			}
		}
		nulls := 0
		if anyNull {
			nulls = n - bitutil.CountSetBits(vb, 0, n)
		}
		return makeBool(n, valid, nulls, vals), nil
	}
}

// boolPlanes returns byte-aligned "is TRUE" and "is FALSE" bit planes of a
// boolean (or NULL-typed) column. For offset-0 columns without nulls the
// value buffer is used directly.
func boolPlanes(a arrow.Array, n, nb int) (isTrue, isFalse []byte) {
	isTrue = make([]byte, nb)
	isFalse = make([]byte, nb)
	if a.DataType().ID() == arrow.NULL || n == 0 {
		return isTrue, isFalse
	}
	ba := a.(*array.Boolean)
	off := a.Data().Offset()
	bitutil.CopyBitmap(a.Data().Buffers()[1].Bytes(), off, n, isTrue, 0)
	bitutil.InvertBitmap(a.Data().Buffers()[1].Bytes(), off, n, isFalse, 0)
	if ba.NullN() > 0 {
		valid := make([]byte, nb)
		bitutil.CopyBitmap(a.NullBitmapBytes(), off, n, valid, 0)
		for i := range isTrue {
			isTrue[i] &= valid[i]
			isFalse[i] &= valid[i]
		}
	}
	return isTrue, isFalse
}

func notKernel(_ *Ctx, args []arrow.Array, n int) (arrow.Array, error) {
	a := args[0]
	if a.DataType().ID() == arrow.NULL {
		return array.NewNull(n), nil
	}
	vals := newBoolOutput(n)
	off := a.Data().Offset()
	if n > 0 {
		bitutil.InvertBitmap(a.Data().Buffers()[1].Bytes(), off, n, vals.Bytes(), 0)
	}
	var valid *memory.Buffer
	if a.NullN() > 0 {
		valid = newBoolOutput(n)
		bitutil.CopyBitmap(a.NullBitmapBytes(), off, n, valid.Bytes(), 0)
		bitutil.BitmapAnd(vals.Bytes(), valid.Bytes(), 0, 0, vals.Bytes(), 0, int64(n))
	}
	return makeBool(n, valid, a.NullN(), vals), nil
}

func isNullKernel(negate bool) KernelFunc {
	return func(_ *Ctx, args []arrow.Array, n int) (arrow.Array, error) {
		a := args[0]
		vals := newBoolOutput(n)
		out := vals.Bytes()
		switch {
		case a.DataType().ID() == arrow.NULL:
			if !negate {
				bitutil.SetBitsTo(out, 0, int64(n), true)
			}
		case a.NullN() == 0:
			if negate {
				bitutil.SetBitsTo(out, 0, int64(n), true)
			}
		case negate:
			bitutil.CopyBitmap(a.NullBitmapBytes(), a.Data().Offset(), n, out, 0)
		default:
			bitutil.InvertBitmap(a.NullBitmapBytes(), a.Data().Offset(), n, out, 0)
		}
		return makeBool(n, nil, 0, vals), nil
	}
}

// castNumericFast converts between INT, BIGINT and DOUBLE with typed loops
// (Java semantics: long->int wraps, double->integer truncates and
// saturates). It returns nil for other conversions.
func castNumericFast(x arrow.Array, to arrow.DataType) arrow.Array {
	from := x.DataType()
	n := x.Len()
	kf, kt := kindOf(from), kindOf(to)
	var valid *memory.Buffer
	withValid := func() {
		if x.NullN() > 0 {
			valid = newBoolOutput(n)
			bitutil.CopyBitmap(x.NullBitmapBytes(), x.Data().Offset(), n, valid.Bytes(), 0)
		}
	}
	switch {
	case kf == kInt && kt == kBigint:
		withValid()
		return convertLoop(x, to, valid, func(v int32) int64 { return int64(v) })
	case kf == kInt && kt == kDouble:
		withValid()
		return convertLoop(x, to, valid, func(v int32) float64 { return float64(v) })
	case kf == kBigint && kt == kDouble:
		withValid()
		return convertLoop(x, to, valid, func(v int64) float64 { return float64(v) })
	case kf == kBigint && kt == kInt:
		withValid()
		return convertLoop(x, to, valid, func(v int64) int32 { return int32(v) })
	case kf == kDouble && kt == kBigint:
		withValid()
		return convertLoop(x, to, valid, func(v float64) int64 { return javaD2L(v, math.MinInt64, math.MaxInt64) })
	case kf == kDouble && kt == kInt:
		withValid()
		return convertLoop(x, to, valid, func(v float64) int32 { return int32(javaD2L(v, math.MinInt32, math.MaxInt32)) })
	}
	return nil
}

func convertLoop[F, T number](x arrow.Array, to arrow.DataType, valid *memory.Buffer, f func(F) T) arrow.Array {
	n := x.Len()
	vbuf, out := newOutput[T](n)
	if n > 0 {
		in := valuesOf[F](x)
		for i := range out {
			out[i] = f(in[i])
		}
	}
	return makeFixed(to, n, valid, x.NullN(), vbuf)
}

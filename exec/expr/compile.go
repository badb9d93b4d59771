package expr

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Compile turns a bound expression tree into an Evaluator. The result is
// safe for concurrent use: evaluators keep no per-call mutable state except
// the immutable constant-column cache of literals.
func Compile(n Node) (Evaluator, error) {
	switch n := n.(type) {
	case *Col:
		return &colEval{idx: n.Index, t: n.Type}, nil
	case *Lit:
		return newLitEval(n.Type, n.Value)
	case *Cast:
		x, err := Compile(n.X)
		if err != nil {
			return nil, err
		}
		if err := CastError(n.X.DataType(), n.Type); err != nil {
			return nil, err
		}
		if lit, ok := n.X.(*Lit); ok {
			// Fold constant casts at compile time; a failing constant cast
			// is reported per row at run time like any other.
			if v, err := castValue(lit.Value, lit.Type, n.Type); err == nil {
				return newLitEval(n.Type, v)
			}
		}
		return &castEval{x: x, from: n.X.DataType(), to: n.Type}, nil
	case *Case:
		return compileCase(n)
	case *Call:
		return compileCall(n)
	case *Lambda, *LambdaVar:
		return nil, fmt.Errorf("%s is only valid inside a lambda function argument", n)
	}
	return nil, fmt.Errorf("expr.Compile: unsupported node %T", n)
}

func compileCall(c *Call) (Evaluator, error) {
	if c.Fn == nil {
		return nil, fmt.Errorf("expr.Compile: call %s is not resolved", c.Name)
	}
	for _, a := range c.Args {
		if containsLambda(a) {
			// Higher-order calls run on the row interpreter: lambda bodies
			// are evaluated per element anyway.
			rf, err := compileRow(c)
			if err != nil {
				return nil, err
			}
			return &rowEval{fn: rf, t: c.Type}, nil
		}
	}
	params := kernelParams(c.Fn)
	args := make([]Evaluator, len(c.Args))
	for i, a := range c.Args {
		if c.Fn.Kernel != nil && params != nil && i < len(params) && !typesEqual(a.DataType(), params[i]) {
			// Widen the argument to the kernel's operand type here, so that
			// literals fold to constants of that type and kernels see
			// uniformly typed columns.
			a = &Cast{X: a, Type: params[i]}
		}
		e, err := Compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	if c.Fn.Kernel != nil {
		return &kernelEval{fn: c.Fn, args: args}, nil
	}
	if c.Fn.Impl == nil {
		return nil, fmt.Errorf("expr.Compile: %s has neither kernel nor implementation", c.Name)
	}
	return &genericEval{fn: c.Fn, args: args, t: c.Type}, nil
}

func containsLambda(n Node) bool {
	_, ok := n.(*Lambda)
	return ok
}

// kernelParamTypes remembers the operand types a kernel was resolved for,
// keyed by the *Func Resolve returned (Func is a contract type without room
// for them).
var kernelParamTypes sync.Map // *Func -> []arrow.DataType

func setKernelParams(f *Func, params []arrow.DataType) { kernelParamTypes.Store(f, params) }

func kernelParams(f *Func) []arrow.DataType {
	if v, ok := kernelParamTypes.Load(f); ok {
		return v.([]arrow.DataType)
	}
	return nil
}

// colEval returns the input column itself (zero copy).
type colEval struct {
	idx int
	t   arrow.DataType
}

func (e *colEval) Eval(_ *Ctx, rec arrow.Record) (arrow.Array, error) {
	if e.idx < 0 || e.idx >= int(rec.NumCols()) {
		return nil, fmt.Errorf("column index %d out of range (record has %d columns)", e.idx, rec.NumCols())
	}
	a := rec.Column(e.idx)
	a.Retain()
	return a, nil
}

// litEval returns a constant column, cached per batch length so that the
// steady state allocates nothing: arrays are immutable and reference
// counted, so handing out the same array with Retain is safe.
type litEval struct {
	t     arrow.DataType
	v     any
	cache atomic.Pointer[arrow.Array]
}

func newLitEval(t arrow.DataType, v any) (*litEval, error) {
	if v != nil && kindOf(t) != kNull {
		b := NewBuilder(t)
		defer b.Release()
		if err := AppendValue(b, v); err != nil {
			return nil, fmt.Errorf("literal %v: %w", v, err)
		}
	}
	return &litEval{t: t, v: v}, nil
}

func (e *litEval) Eval(_ *Ctx, rec arrow.Record) (arrow.Array, error) {
	n := int(rec.NumRows())
	if p := e.cache.Load(); p != nil && (*p).Len() == n {
		(*p).Retain()
		return *p, nil
	}
	a := MakeArray(e.t, e.v, n)
	a.Retain() // one reference for the cache
	if old := e.cache.Swap(&a); old != nil {
		(*old).Release()
	}
	return a, nil
}

// kernelEval evaluates the arguments and hands whole columns to the kernel.
type kernelEval struct {
	fn   *Func
	args []Evaluator
}

func (e *kernelEval) Eval(ctx *Ctx, rec arrow.Record) (arrow.Array, error) {
	var buf [3]arrow.Array
	arrs := buf[:0]
	if len(e.args) > len(buf) {
		arrs = make([]arrow.Array, 0, len(e.args))
	}
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	for _, a := range e.args {
		x, err := a.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		arrs = append(arrs, x)
	}
	return e.fn.Kernel(ctx, arrs, int(rec.NumRows()))
}

// genericEval is the generic fallback: it converts each row's arguments to
// Go values and calls Func.Impl. It allocates per row (boxing) and exists
// for the long tail of functions that are not on a hot path.
type genericEval struct {
	fn   *Func
	args []Evaluator
	t    arrow.DataType
}

func (e *genericEval) Eval(ctx *Ctx, rec arrow.Record) (arrow.Array, error) {
	arrs := make([]arrow.Array, len(e.args))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, a := range e.args {
		x, err := a.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		arrs[i] = x
	}
	n := int(rec.NumRows())
	return runGeneric(ctx, e.fn, e.t, arrs, n)
}

func runGeneric(ctx *Ctx, fn *Func, t arrow.DataType, arrs []arrow.Array, n int) (arrow.Array, error) {
	if kindOf(t) == kNull {
		return array.NewNull(n), nil
	}
	b := NewBuilder(t)
	defer b.Release()
	b.Reserve(n)
	vals := make([]any, len(arrs))
rows:
	for i := 0; i < n; i++ {
		for j, a := range arrs {
			vals[j] = ValueAt(a, i)
			if fn.NullOnNull && vals[j] == nil {
				b.AppendNull()
				continue rows
			}
		}
		v, err := fn.Impl(vals)
		if err == nil {
			err = appendChecked(b, v)
		}
		if err != nil {
			reportRow(ctx, i, fn.Name, err)
			b.AppendNull()
		}
	}
	return b.NewArray(), nil
}

// appendChecked appends v, converting a panic-free failure into an error
// without leaving a half-built nested value behind.
func appendChecked(b array.Builder, v any) error {
	switch b.(type) {
	case *array.ListBuilder, *array.MapBuilder, *array.StructBuilder:
		// Validate on a scratch builder first: a failed nested append
		// would otherwise leave child values without a parent slot.
		sb := NewBuilder(b.Type())
		err := AppendValue(sb, v)
		sb.Release()
		if err != nil {
			return err
		}
	}
	return AppendValue(b, v)
}

// RowError is a per-row evaluation failure handed to Ctx.OnRowError.
type RowError struct {
	Func string // function or operator, "" for casts
	Err  error
}

func (e *RowError) Error() string {
	if e.Func == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("Error computing %s: %v", e.Func, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

func reportRow(ctx *Ctx, row int, fn string, err error) {
	if ctx != nil && ctx.OnRowError != nil {
		ctx.OnRowError(row, &RowError{Func: fn, Err: err})
	}
}

// castEval converts a column; numeric conversions have typed loops, the
// rest goes row by row through castValue.
type castEval struct {
	x        Evaluator
	from, to arrow.DataType
}

func (e *castEval) Eval(ctx *Ctx, rec arrow.Record) (arrow.Array, error) {
	x, err := e.x.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	n := x.Len()
	if typesEqual(e.from, e.to) {
		x.Retain()
		return x, nil
	}
	if kindOf(e.from) == kNull {
		return MakeArray(e.to, nil, n), nil
	}
	if out := castNumericFast(x, e.to); out != nil {
		return out, nil
	}
	if out := castDecimalFast(ctx, x, e.from, e.to); out != nil {
		return out, nil
	}
	b := NewBuilder(e.to)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		v, err := castValue(ValueAt(x, i), e.from, e.to)
		if err == nil {
			err = appendChecked(b, v)
		}
		if err != nil {
			reportRow(ctx, i, "", err)
			b.AppendNull()
		}
	}
	return b.NewArray(), nil
}

// caseEval evaluates a searched CASE column-wise. Every branch is evaluated
// over the whole batch, but through a Ctx that only forwards row errors of
// the rows that branch decides, so errors of unchosen branches never reach
// the caller (ksqlDB evaluates CASE lazily).
type caseEval struct {
	conds, results []Evaluator
	elseE          Evaluator
	t              arrow.DataType
}

func compileCase(c *Case) (Evaluator, error) {
	ce := &caseEval{t: c.Type}
	for _, w := range c.Whens {
		cond, err := Compile(w.Cond)
		if err != nil {
			return nil, err
		}
		res, err := Compile(coerceTo(w.Result, c.Type))
		if err != nil {
			return nil, err
		}
		ce.conds = append(ce.conds, cond)
		ce.results = append(ce.results, res)
	}
	if c.Else != nil {
		e, err := Compile(coerceTo(c.Else, c.Type))
		if err != nil {
			return nil, err
		}
		ce.elseE = e
	}
	return ce, nil
}

// coerceTo wraps n in a Cast when its type differs from t (a NULL literal in
// a CASE arm, for instance).
func coerceTo(n Node, t arrow.DataType) Node {
	if typesEqual(n.DataType(), t) {
		return n
	}
	return &Cast{X: n, Type: t}
}

func maskedCtx(ctx *Ctx, choice []int32, want int32) *Ctx {
	if ctx == nil || ctx.OnRowError == nil {
		return ctx
	}
	c := *ctx
	c.OnRowError = func(row int, err error) {
		if row < len(choice) && choice[row] == want {
			ctx.OnRowError(row, err)
		}
	}
	return &c
}

const undecided = -1

func (e *caseEval) Eval(ctx *Ctx, rec arrow.Record) (arrow.Array, error) {
	n := int(rec.NumRows())
	choice := make([]int32, n)
	for i := range choice {
		choice[i] = undecided
	}
	elseIdx := int32(len(e.conds))
	for wi, cond := range e.conds {
		c, err := cond.Eval(maskedCtx(ctx, choice, undecided), rec)
		if err != nil {
			return nil, err
		}
		b := c.(*array.Boolean)
		for i := 0; i < n; i++ {
			if choice[i] == undecided && b.IsValid(i) && b.Value(i) {
				choice[i] = int32(wi)
			}
		}
		c.Release()
	}
	counts := make([]int, len(e.conds)+1)
	for i, c := range choice {
		if c == undecided {
			choice[i] = elseIdx
			c = elseIdx
		}
		counts[c]++
	}
	arms := make([]arrow.Array, len(e.conds)+1)
	defer func() {
		for _, a := range arms {
			if a != nil {
				a.Release()
			}
		}
	}()
	for wi, r := range e.results {
		if counts[wi] == 0 {
			continue
		}
		a, err := r.Eval(maskedCtx(ctx, choice, int32(wi)), rec)
		if err != nil {
			return nil, err
		}
		arms[wi] = a
	}
	if e.elseE != nil && counts[elseIdx] > 0 {
		a, err := e.elseE.Eval(maskedCtx(ctx, choice, elseIdx), rec)
		if err != nil {
			return nil, err
		}
		arms[elseIdx] = a
	}
	// A single chosen arm is returned as is.
	for wi, c := range counts {
		if c == n && arms[wi] != nil {
			arms[wi].Retain()
			return arms[wi], nil
		}
	}
	b := NewBuilder(e.t)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		a := arms[choice[i]]
		if a == nil {
			b.AppendNull()
			continue
		}
		appendFrom(b, a, i)
	}
	return b.NewArray(), nil
}

// appendFrom copies row i of a into b (same type).
func appendFrom(b array.Builder, a arrow.Array, i int) {
	if a.IsNull(i) {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(a.(*array.Boolean).Value(i))
	case *array.Int32Builder:
		b.Append(a.(*array.Int32).Value(i))
	case *array.Int64Builder:
		b.Append(a.(*array.Int64).Value(i))
	case *array.Float64Builder:
		b.Append(a.(*array.Float64).Value(i))
	case *array.StringBuilder:
		b.Append(a.(*array.String).Value(i))
	case *array.Decimal128Builder:
		b.Append(a.(*array.Decimal128).Value(i))
	case *array.TimestampBuilder:
		b.Append(a.(*array.Timestamp).Value(i))
	default:
		if err := AppendValue(b, ValueAt(a, i)); err != nil {
			panic(err) // same type on both sides: cannot fail
		}
	}
}

// rowEval runs a row-interpreted expression (calls with lambdas).
type rowEval struct {
	fn rowFn
	t  arrow.DataType
}

func (e *rowEval) Eval(ctx *Ctx, rec arrow.Record) (arrow.Array, error) {
	n := int(rec.NumRows())
	b := NewBuilder(e.t)
	defer b.Release()
	b.Reserve(n)
	env := &rowEnv{ctx: ctx, rec: rec}
	for i := 0; i < n; i++ {
		env.row = i
		v, err := e.fn(env)
		if err == nil {
			err = appendChecked(b, v)
		}
		if err != nil {
			reportRow(ctx, i, "", err)
			b.AppendNull()
		}
	}
	return b.NewArray(), nil
}

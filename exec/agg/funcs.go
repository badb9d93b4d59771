package agg

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/decimal128"

	"github.com/sluicedb/sluice/exec/expr"
)

// The functions follow ksqlDB's UDAFs (ksqldb-reference.md section 6):
// initial values, NULL handling, result types and which ones can undo.

func init() {
	register(resolveCount, "COUNT")
	register(resolveSum, "SUM")
	register(resolveAvg, "AVG")
	register(resolveSumList, "SUM_LIST")
	register(resolveMinMax, "MIN", "MAX")
	register(resolveCollect, "COLLECT_LIST", "COLLECT_SET")
	register(resolveCountDistinct, "COUNT_DISTINCT")
	register(resolveHistogram, "HISTOGRAM")
	register(resolveTopK, "TOPK", "TOPKDISTINCT")
	register(resolveByOffset, "EARLIEST_BY_OFFSET", "LATEST_BY_OFFSET")
	register(resolveStddev, "STDDEV_SAMP", "STDDEV_SAMPLE")
	register(resolveCorrelation, "CORRELATION")
}

func typeName(t arrow.DataType) string { return expr.TypeName(t) }

// simple builds a Func whose accumulator is a value of type A that encodes
// itself; dec reads it back.
func simple[A Acc](name string, result arrow.DataType, undo bool, mk func() A, dec func([]byte) (A, error)) *Func {
	complexState := true
	switch name {
	case "COUNT", "SUM", "MIN", "MAX":
		complexState = false
	}
	return &Func{Name: name, Result: result, Undoable: undo, ComplexState: complexState,
		newAcc: func() Acc { return mk() },
		decode: func(b []byte) (Acc, error) { return dec(b) }}
}

// ---- COUNT ----

func resolveCount(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) > 1 {
		return nil, badArgs(name, args)
	}
	return simple(name, expr.BigintType, true,
		func() *countAcc { return &countAcc{} },
		func(b []byte) (*countAcc, error) {
			n, _, err := ReadVarint(b)
			return &countAcc{n: n}, err
		}), nil
}

// countAcc counts rows whose argument is not NULL (all rows for COUNT(*)).
type countAcc struct{ n int64 }

func (a *countAcc) Add(args []any, _ int64) error {
	if len(args) == 0 || args[0] != nil {
		a.n++
	}
	return nil
}

func (a *countAcc) Undo(args []any) error {
	if len(args) == 0 || args[0] != nil {
		a.n--
	}
	return nil
}

func (a *countAcc) Merge(o Acc) error             { a.n += o.(*countAcc).n; return nil }
func (a *countAcc) Result() any                   { return a.n }
func (a *countAcc) AppendState(dst []byte) []byte { return AppendVarint(dst, a.n) }

// ---- SUM and AVG ----

// numAcc is a running sum (and count, for AVG) of INT, BIGINT, DOUBLE or
// DECIMAL values. INT and BIGINT sums wrap on overflow as Java's do; a
// DECIMAL sum that no longer fits the type's precision is an error for the
// row.
type numAcc struct {
	t     arrow.DataType
	avg   bool
	i     int64 // INT (kept wrapped to 32 bits) and BIGINT
	f     float64
	d     decimal128.Num
	count int64
}

func numFunc(name string, t arrow.DataType, avg bool) *Func {
	result := t
	if avg {
		result = expr.DoubleType
	}
	return simple(name, result, true,
		func() *numAcc { return &numAcc{t: t, avg: avg} },
		func(b []byte) (*numAcc, error) {
			a := &numAcc{t: t, avg: avg}
			v, rest, err := ReadValue(b)
			if err != nil {
				return nil, err
			}
			switch v := v.(type) {
			case int32:
				a.i = int64(v)
			case int64:
				a.i = v
			case float64:
				a.f = v
			case expr.Decimal:
				a.d = v.V
			}
			a.count, _, err = ReadVarint(rest)
			return a, err
		})
}

func resolveSum(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 1 {
		return nil, badArgs(name, args)
	}
	switch args[0].Type.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128:
		return numFunc(name, args[0].Type, false), nil
	}
	return nil, badArgs(name, args)
}

func resolveAvg(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 1 {
		return nil, badArgs(name, args)
	}
	switch args[0].Type.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64:
		return numFunc(name, args[0].Type, true), nil
	}
	return nil, badArgs(name, args)
}

// resolveSumList is SUM_LIST(ARRAY<INT|BIGINT|DOUBLE>): the running sum of
// every non-NULL element of every row's list.
func resolveSumList(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 1 || args[0].Type.ID() != arrow.LIST {
		return nil, badArgs(name, args)
	}
	elem := args[0].Type.(*arrow.ListType).Elem()
	switch elem.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64:
	default:
		return nil, badArgs(name, args)
	}
	f := numFunc(name, elem, false)
	newNum, decNum := f.newAcc, f.decode
	f.newAcc = func() Acc { return &listSumAcc{newNum().(*numAcc)} }
	f.decode = func(b []byte) (Acc, error) {
		a, err := decNum(b)
		if err != nil {
			return nil, err
		}
		return &listSumAcc{a.(*numAcc)}, nil
	}
	return f, nil
}

// listSumAcc adds (or undoes) each element of a list argument.
type listSumAcc struct{ *numAcc }

func (a *listSumAcc) each(args []any, sign int64) error {
	xs, _ := args[0].([]any)
	for _, x := range xs {
		if err := a.add(x, sign); err != nil {
			return err
		}
	}
	return nil
}

func (a *listSumAcc) Add(args []any, _ int64) error { return a.each(args, 1) }
func (a *listSumAcc) Undo(args []any) error         { return a.each(args, -1) }
func (a *listSumAcc) Merge(o Acc) error             { return a.numAcc.Merge(o.(*listSumAcc).numAcc) }

func (a *numAcc) add(v any, sign int64) error {
	switch v := v.(type) {
	case nil:
		return nil
	case int32:
		a.i = int64(int32(a.i) + int32(sign)*v)
	case int64:
		a.i += sign * v
	case float64:
		a.f += float64(sign) * v
	case expr.Decimal:
		x := v.V
		dt := a.t.(*arrow.Decimal128Type)
		if v.Scale != dt.Scale {
			x = x.IncreaseScaleBy(dt.Scale - v.Scale)
		}
		var sum decimal128.Num
		if sign < 0 {
			sum = a.d.Sub(x)
		} else {
			sum = a.d.Add(x)
		}
		if !sum.FitsInPrecision(dt.Precision) {
			return fmt.Errorf("Numeric field overflow: the sum exceeds DECIMAL(%d, %d)", dt.Precision, dt.Scale)
		}
		a.d = sum
	default:
		return fmt.Errorf("SUM/AVG of %T", v)
	}
	a.count += sign
	return nil
}

func (a *numAcc) Add(args []any, _ int64) error { return a.add(args[0], 1) }
func (a *numAcc) Undo(args []any) error         { return a.add(args[0], -1) }

func (a *numAcc) Merge(o Acc) error {
	b := o.(*numAcc)
	switch a.t.ID() {
	case arrow.INT32:
		a.i = int64(int32(a.i) + int32(b.i))
	case arrow.INT64:
		a.i += b.i
	case arrow.FLOAT64:
		a.f += b.f
	case arrow.DECIMAL128:
		a.d = a.d.Add(b.d)
	}
	a.count += b.count
	return nil
}

func (a *numAcc) sum() any {
	switch a.t.ID() {
	case arrow.INT32:
		return int32(a.i)
	case arrow.INT64:
		return a.i
	case arrow.FLOAT64:
		return a.f
	}
	dt := a.t.(*arrow.Decimal128Type)
	return expr.Decimal{V: a.d, Precision: dt.Precision, Scale: dt.Scale}
}

func (a *numAcc) Result() any {
	if !a.avg {
		return a.sum()
	}
	if a.count == 0 {
		return 0.0 // ksqlDB's AVG of no values is 0.0, not NULL
	}
	var s float64
	switch a.t.ID() {
	case arrow.INT32, arrow.INT64:
		s = float64(a.i)
	default:
		s = a.f
	}
	return s / float64(a.count)
}

func (a *numAcc) AppendState(dst []byte) []byte {
	return AppendVarint(AppendValue(dst, a.sum()), a.count)
}

// ---- MIN and MAX ----

func comparable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128, arrow.STRING, arrow.BINARY,
		arrow.DATE32, arrow.TIME32, arrow.TIMESTAMP:
		return true
	}
	return false
}

func resolveMinMax(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 1 || !comparable(args[0].Type) {
		return nil, badArgs(name, args)
	}
	max := name == "MAX"
	return simple(name, args[0].Type, false,
		func() *extremeAcc { return &extremeAcc{max: max} },
		func(b []byte) (*extremeAcc, error) {
			v, _, err := ReadValue(b)
			return &extremeAcc{max: max, v: v}, err
		}), nil
}

// extremeAcc keeps the smallest (or largest) non-NULL value; NULL until
// there is one.
type extremeAcc struct {
	max bool
	v   any
}

func (a *extremeAcc) offer(v any) {
	if v == nil {
		return
	}
	if a.v == nil {
		a.v = v
		return
	}
	c := compare(v, a.v)
	if (a.max && c > 0) || (!a.max && c < 0) {
		a.v = v
	}
}

func (a *extremeAcc) Add(args []any, _ int64) error { a.offer(args[0]); return nil }
func (a *extremeAcc) Undo([]any) error              { return errNoUndo }
func (a *extremeAcc) Merge(o Acc) error             { a.offer(o.(*extremeAcc).v); return nil }
func (a *extremeAcc) Result() any                   { return a.v }
func (a *extremeAcc) AppendState(dst []byte) []byte { return AppendValue(dst, a.v) }

var errNoUndo = fmt.Errorf("this aggregate function cannot retract values (it is not allowed on tables)")

// ---- COLLECT_LIST, COLLECT_SET ----

func resolveCollect(name string, args []Arg, cfg Config) (*Func, error) {
	if len(args) != 1 || args[0].Type.ID() == arrow.NULL {
		return nil, badArgs(name, args)
	}
	set := name == "COLLECT_SET"
	limit := cfg.CollectListLimit
	if set {
		limit = cfg.CollectSetLimit
	}
	mk := func() *collectAcc { return &collectAcc{set: set, limit: limit} }
	return simple(name, expr.ListOf(args[0].Type), !set, mk,
		func(b []byte) (*collectAcc, error) {
			a := mk()
			v, _, err := ReadValue(b)
			if err != nil {
				return nil, err
			}
			list, _ := v.([]any)
			for _, e := range list {
				a.vals = append(a.vals, e)
				a.encs = append(a.encs, AppendValue(nil, e))
			}
			return a, nil
		}), nil
}

// collectAcc is COLLECT_LIST (every value, NULLs included, in arrival
// order) or COLLECT_SET (first occurrences only). encs holds each value's
// encoding, its identity for the set and for undo.
type collectAcc struct {
	set   bool
	limit int
	vals  []any
	encs  [][]byte
}

func (a *collectAcc) push(v any, enc []byte) {
	if a.limit > 0 && len(a.vals) >= a.limit {
		return // ksqlDB drops values past the limit silently
	}
	if a.set {
		for _, e := range a.encs {
			if bytes.Equal(e, enc) {
				return
			}
		}
	}
	a.vals = append(a.vals, v)
	a.encs = append(a.encs, enc)
}

func (a *collectAcc) Add(args []any, _ int64) error {
	a.push(args[0], AppendValue(nil, args[0]))
	return nil
}

// Undo removes the last equal occurrence, as ksqlDB's COLLECT_LIST does.
func (a *collectAcc) Undo(args []any) error {
	enc := AppendValue(nil, args[0])
	for i := len(a.encs) - 1; i >= 0; i-- {
		if bytes.Equal(a.encs[i], enc) {
			a.vals = append(a.vals[:i], a.vals[i+1:]...)
			a.encs = append(a.encs[:i], a.encs[i+1:]...)
			return nil
		}
	}
	return nil
}

func (a *collectAcc) Merge(o Acc) error {
	b := o.(*collectAcc)
	for i := range b.vals {
		a.push(b.vals[i], b.encs[i])
	}
	return nil
}

func (a *collectAcc) Result() any {
	return append(make([]any, 0, len(a.vals)), a.vals...)
}

func (a *collectAcc) AppendState(dst []byte) []byte { return AppendValue(dst, a.vals) }

// ---- COUNT_DISTINCT ----

func resolveCountDistinct(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 1 {
		return nil, badArgs(name, args)
	}
	return simple(name, expr.BigintType, false,
		func() *distinctAcc { return &distinctAcc{seen: map[string]struct{}{}} },
		func(b []byte) (*distinctAcc, error) {
			a := &distinctAcc{seen: map[string]struct{}{}}
			v, _, err := ReadValue(b)
			list, _ := v.([]any)
			for _, e := range list {
				if s, ok := e.([]byte); ok {
					a.seen[string(s)] = struct{}{}
				}
			}
			return a, err
		}), nil
}

// distinctAcc counts distinct non-NULL values exactly. (ksqlDB estimates
// with a HyperLogLog; an exact count agrees with it wherever the estimate
// is exact, which covers small groups, at the cost of state that grows
// with the number of distinct values.)
type distinctAcc struct{ seen map[string]struct{} }

func (a *distinctAcc) Add(args []any, _ int64) error {
	if args[0] != nil {
		a.seen[string(AppendValue(nil, args[0]))] = struct{}{}
	}
	return nil
}

func (a *distinctAcc) Undo([]any) error { return errNoUndo }

func (a *distinctAcc) Merge(o Acc) error {
	for k := range o.(*distinctAcc).seen {
		a.seen[k] = struct{}{}
	}
	return nil
}

func (a *distinctAcc) Result() any { return int64(len(a.seen)) }

func (a *distinctAcc) AppendState(dst []byte) []byte {
	list := make([]any, 0, len(a.seen))
	for k := range a.seen {
		list = append(list, []byte(k))
	}
	// Map iteration order is random; sort so that equal states encode
	// equally (changelog records stay deterministic).
	sortBytes(list)
	return AppendValue(dst, list)
}

func sortBytes(list []any) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && bytes.Compare(list[j].([]byte), list[j-1].([]byte)) < 0; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// ---- HISTOGRAM ----

// histogramLimit is ksqlDB's cap on distinct keys; later keys are ignored.
const histogramLimit = 1000

func resolveHistogram(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 1 || args[0].Type.ID() != arrow.STRING {
		return nil, badArgs(name, args)
	}
	return simple(name, expr.MapOf(expr.StringType, expr.BigintType), true,
		func() *histAcc { return &histAcc{} },
		func(b []byte) (*histAcc, error) {
			v, _, err := ReadValue(b)
			a := &histAcc{}
			if m, ok := v.(*expr.Map); ok {
				a.keys = m.Keys
				for _, c := range m.Values {
					a.counts = append(a.counts, c.(int64))
				}
			}
			return a, err
		}), nil
}

// histAcc counts occurrences per string, keys in first-seen order.
type histAcc struct {
	keys   []any // string or nil
	counts []int64
}

func (a *histAcc) find(k any) int {
	for i, x := range a.keys {
		if x == k {
			return i
		}
	}
	return -1
}

func (a *histAcc) bump(k any, n int64) {
	i := a.find(k)
	switch {
	case i >= 0:
		a.counts[i] += n
		if a.counts[i] <= 0 {
			a.keys = append(a.keys[:i], a.keys[i+1:]...)
			a.counts = append(a.counts[:i], a.counts[i+1:]...)
		}
	case n > 0 && len(a.keys) < histogramLimit:
		a.keys = append(a.keys, k)
		a.counts = append(a.counts, n)
	}
}

func (a *histAcc) Add(args []any, _ int64) error { a.bump(args[0], 1); return nil }
func (a *histAcc) Undo(args []any) error         { a.bump(args[0], -1); return nil }

func (a *histAcc) Merge(o Acc) error {
	b := o.(*histAcc)
	for i, k := range b.keys {
		a.bump(k, b.counts[i])
	}
	return nil
}

func (a *histAcc) Result() any {
	m := &expr.Map{Keys: make([]any, len(a.keys)), Values: make([]any, len(a.keys))}
	for i := range a.keys {
		m.Keys[i], m.Values[i] = a.keys[i], a.counts[i]
	}
	return m
}

func (a *histAcc) AppendState(dst []byte) []byte { return AppendValue(dst, a.Result()) }

// ---- TOPK, TOPKDISTINCT ----

func constInt(a Arg) (int64, bool) {
	if !a.Const {
		return 0, false
	}
	switch v := a.Value.(type) {
	case int32:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// resolveTopK accepts (x, k) and (x, other..., k). With other columns the
// result is ARRAY<STRUCT<sort_col, col0, ...>>: each of the k largest x
// with the other columns of its row, as ksqlDB returns them.
func resolveTopK(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) < 2 || !comparable(args[0].Type) {
		return nil, badArgs(name, args)
	}
	k, ok := constInt(args[len(args)-1])
	if !ok {
		return nil, badArgs(name, args)
	}
	if k <= 0 {
		return nil, &ResolveError{Msg: fmt.Sprintf("%s: k must be positive, got %d", name, k)}
	}
	distinct := name == "TOPKDISTINCT"
	elem := args[0].Type
	var names []string
	if extra := args[1 : len(args)-1]; len(extra) > 0 {
		fields := []arrow.Field{expr.Field("sort_col", args[0].Type)}
		for i, a := range extra {
			fields = append(fields, expr.Field("col"+strconv.Itoa(i), a.Type))
		}
		elem = expr.StructOf(fields...)
		for _, f := range fields {
			names = append(names, f.Name)
		}
	}
	mk := func() *topkAcc { return &topkAcc{k: int(k), distinct: distinct, names: names} }
	return simple(name, expr.ListOf(elem), false, mk,
		func(b []byte) (*topkAcc, error) {
			a := mk()
			v, _, err := ReadValue(b)
			a.vals, _ = v.([]any)
			return a, err
		}), nil
}

// topkAcc keeps the k largest non-NULL values in descending order
// (distinct values for TOPKDISTINCT); among equal values the earlier one
// comes first. With other columns (names set) the values are structs
// ordered by their first field, sort_col.
type topkAcc struct {
	k        int
	distinct bool
	names    []string
	vals     []any
}

func (a *topkAcc) sortKey(v any) any {
	if a.names != nil {
		return v.(*expr.Struct).Values[0]
	}
	return v
}

func (a *topkAcc) offer(v any) {
	x := a.sortKey(v)
	if x == nil {
		return
	}
	i := 0
	for i < len(a.vals) && compare(a.sortKey(a.vals[i]), x) >= 0 {
		if a.distinct && compare(a.sortKey(a.vals[i]), x) == 0 {
			return
		}
		i++
	}
	if i >= a.k {
		return
	}
	a.vals = append(a.vals, nil)
	copy(a.vals[i+1:], a.vals[i:])
	a.vals[i] = v
	if len(a.vals) > a.k {
		a.vals = a.vals[:a.k]
	}
}

func (a *topkAcc) Add(args []any, _ int64) error {
	if a.names == nil {
		a.offer(args[0])
		return nil
	}
	if args[0] == nil {
		return nil
	}
	vals := append([]any(nil), args[:len(a.names)]...)
	a.offer(&expr.Struct{Names: a.names, Values: vals})
	return nil
}

func (a *topkAcc) Undo([]any) error { return errNoUndo }

func (a *topkAcc) Merge(o Acc) error {
	for _, v := range o.(*topkAcc).vals {
		a.offer(v)
	}
	return nil
}

func (a *topkAcc) Result() any                   { return append(make([]any, 0, len(a.vals)), a.vals...) }
func (a *topkAcc) AppendState(dst []byte) []byte { return AppendValue(dst, a.vals) }

// ---- EARLIEST_BY_OFFSET, LATEST_BY_OFFSET ----

func constBool(a Arg) (bool, bool) {
	if !a.Const {
		return false, false
	}
	b, ok := a.Value.(bool)
	return b, ok
}

// resolveByOffset accepts (x), (x, ignoreNulls), (x, n) and
// (x, n, ignoreNulls); ignoreNulls defaults to true.
func resolveByOffset(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) == 0 || len(args) > 3 || args[0].Type.ID() == arrow.NULL {
		return nil, badArgs(name, args)
	}
	n, ignoreNulls, many := int64(1), true, false
	rest := args[1:]
	if len(rest) > 0 && rest[0].Type.ID() != arrow.BOOL {
		v, ok := constInt(rest[0])
		if !ok {
			return nil, badArgs(name, args)
		}
		if v < 1 {
			word := "earliestN"
			if name == "LATEST_BY_OFFSET" {
				word = "latestN"
			}
			return nil, &ResolveError{Msg: fmt.Sprintf("%s must be 1 or greater", word)}
		}
		n, many, rest = v, true, rest[1:]
	}
	if len(rest) > 0 {
		b, ok := constBool(rest[0])
		if !ok || len(rest) > 1 {
			return nil, badArgs(name, args)
		}
		ignoreNulls = b
	}
	result := args[0].Type
	if many {
		result = expr.ListOf(result)
	}
	latest := name == "LATEST_BY_OFFSET"
	mk := func() *offsetAcc { return &offsetAcc{n: int(n), many: many, latest: latest, ignoreNulls: ignoreNulls} }
	return simple(name, result, false, mk,
		func(b []byte) (*offsetAcc, error) {
			a := mk()
			cnt, rest, err := ReadUvarint(b)
			for i := uint64(0); err == nil && i < cnt; i++ {
				var e seqVal
				if e.seq, rest, err = ReadVarint(rest); err != nil {
					break
				}
				e.v, rest, err = ReadValue(rest)
				a.vals = append(a.vals, e)
			}
			return a, err
		}), nil
}

type seqVal struct {
	seq int64
	v   any
}

// offsetAcc keeps the first (or last) n accepted values with their
// processing sequence, oldest first; sequences order merged sessions.
type offsetAcc struct {
	n           int
	many        bool
	latest      bool
	ignoreNulls bool
	vals        []seqVal
}

func (a *offsetAcc) trim() {
	if len(a.vals) <= a.n {
		return
	}
	if a.latest {
		a.vals = append(a.vals[:0], a.vals[len(a.vals)-a.n:]...)
	} else {
		a.vals = a.vals[:a.n]
	}
}

func (a *offsetAcc) Add(args []any, seq int64) error {
	v := args[0]
	if v == nil && a.ignoreNulls {
		return nil
	}
	if !a.latest && len(a.vals) >= a.n {
		return nil
	}
	a.vals = append(a.vals, seqVal{seq: seq, v: v})
	a.trim()
	return nil
}

func (a *offsetAcc) Undo([]any) error { return errNoUndo }

func (a *offsetAcc) Merge(o Acc) error {
	b := o.(*offsetAcc)
	merged := make([]seqVal, 0, len(a.vals)+len(b.vals))
	i, j := 0, 0
	for i < len(a.vals) || j < len(b.vals) {
		if j >= len(b.vals) || (i < len(a.vals) && a.vals[i].seq <= b.vals[j].seq) {
			merged = append(merged, a.vals[i])
			i++
		} else {
			merged = append(merged, b.vals[j])
			j++
		}
	}
	a.vals = merged
	a.trim()
	return nil
}

func (a *offsetAcc) Result() any {
	if !a.many {
		if len(a.vals) == 0 {
			return nil
		}
		return a.vals[0].v
	}
	out := make([]any, len(a.vals))
	for i, e := range a.vals {
		out[i] = e.v
	}
	return out
}

func (a *offsetAcc) AppendState(dst []byte) []byte {
	dst = AppendUvarint(dst, uint64(len(a.vals)))
	for _, e := range a.vals {
		dst = AppendValue(AppendVarint(dst, e.seq), e.v)
	}
	return dst
}

// ---- STDDEV_SAMP, STDDEV_SAMPLE ----

func isIntOrDouble(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64:
		return true
	}
	return false
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

func resolveStddev(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 1 || !isIntOrDouble(args[0].Type) {
		return nil, badArgs(name, args)
	}
	sqrt := name == "STDDEV_SAMPLE"
	return simple(name, expr.DoubleType, true,
		func() *varAcc { return &varAcc{sqrt: sqrt} },
		func(b []byte) (*varAcc, error) {
			a := &varAcc{sqrt: sqrt}
			fs, rest, err := readFloats(b, 2)
			if err == nil {
				a.sum, a.m2 = fs[0], fs[1]
				a.n, _, err = ReadVarint(rest)
			}
			return a, err
		}), nil
}

// varAcc is the running sample variance: count, sum and the sum of squared
// deviations (m2), updated incrementally so that Undo can retract a value.
// STDDEV_SAMP returns the variance itself, as ksqlDB does; STDDEV_SAMPLE
// its square root. Fewer than two values give 0.0.
type varAcc struct {
	sqrt    bool
	n       int64
	sum, m2 float64
}

func (a *varAcc) Add(args []any, _ int64) error {
	if args[0] == nil {
		return nil
	}
	x := toFloat(args[0])
	n := float64(a.n + 1)
	sum := a.sum + x
	if a.n > 0 {
		d := n*x - sum
		a.m2 += d * d / (n * float64(a.n))
	}
	a.n, a.sum = a.n+1, sum
	return nil
}

func (a *varAcc) Undo(args []any) error {
	if args[0] == nil || a.n == 0 {
		return nil
	}
	x := toFloat(args[0])
	if a.n == 1 {
		a.n, a.sum, a.m2 = 0, 0, 0
		return nil
	}
	n := float64(a.n)
	d := n*x - a.sum
	a.m2 -= d * d / (n * (n - 1))
	a.n, a.sum = a.n-1, a.sum-x
	return nil
}

func (a *varAcc) Merge(o Acc) error {
	b := o.(*varAcc)
	switch {
	case b.n == 0:
	case a.n == 0:
		a.n, a.sum, a.m2 = b.n, b.sum, b.m2
	default:
		n1, n2 := float64(a.n), float64(b.n)
		d := n1*b.sum - n2*a.sum
		a.m2 += b.m2 + d*d/(n1*n2*(n1+n2))
		a.n, a.sum = a.n+b.n, a.sum+b.sum
	}
	return nil
}

func (a *varAcc) Result() any {
	if a.n < 2 {
		return 0.0
	}
	v := a.m2 / float64(a.n-1)
	if a.sqrt {
		return math.Sqrt(v)
	}
	return v
}

func (a *varAcc) AppendState(dst []byte) []byte {
	dst = appendFloats(dst, a.sum, a.m2)
	return AppendVarint(dst, a.n)
}

func appendFloats(dst []byte, fs ...float64) []byte {
	for _, f := range fs {
		dst = AppendValue(dst, f)
	}
	return dst
}

// readFloats reads n DOUBLE values written by appendFloats and returns the
// rest of b.
func readFloats(b []byte, n int) ([]float64, []byte, error) {
	out := make([]float64, n)
	for i := range out {
		v, rest, err := ReadValue(b)
		if err != nil {
			return nil, nil, err
		}
		f, ok := v.(float64)
		if !ok {
			return nil, nil, fmt.Errorf("expected DOUBLE, found %T", v)
		}
		out[i], b = f, rest
	}
	return out, b, nil
}

// ---- CORRELATION ----

func resolveCorrelation(name string, args []Arg, _ Config) (*Func, error) {
	if len(args) != 2 || !isIntOrDouble(args[0].Type) || !isIntOrDouble(args[1].Type) {
		return nil, badArgs(name, args)
	}
	return simple(name, expr.DoubleType, true,
		func() *corrAcc { return &corrAcc{} },
		func(b []byte) (*corrAcc, error) {
			a := &corrAcc{}
			fs, rest, err := readFloats(b, 5)
			if err == nil {
				a.sx, a.sy, a.sxy, a.sxx, a.syy = fs[0], fs[1], fs[2], fs[3], fs[4]
				a.n, _, err = ReadVarint(rest)
			}
			return a, err
		}), nil
}

// corrAcc is Pearson's correlation from running sums; rows where either
// argument is NULL are skipped. Fewer than two rows, or a constant column,
// give NaN.
type corrAcc struct {
	n                     int64
	sx, sy, sxy, sxx, syy float64
}

func (a *corrAcc) apply(args []any, sign float64) {
	if args[0] == nil || args[1] == nil {
		return
	}
	x, y := toFloat(args[0]), toFloat(args[1])
	a.sx += sign * x
	a.sy += sign * y
	a.sxy += sign * x * y
	a.sxx += sign * x * x
	a.syy += sign * y * y
	a.n += int64(sign)
}

func (a *corrAcc) Add(args []any, _ int64) error { a.apply(args, 1); return nil }
func (a *corrAcc) Undo(args []any) error         { a.apply(args, -1); return nil }

func (a *corrAcc) Merge(o Acc) error {
	b := o.(*corrAcc)
	a.n += b.n
	a.sx, a.sy, a.sxy, a.sxx, a.syy = a.sx+b.sx, a.sy+b.sy, a.sxy+b.sxy, a.sxx+b.sxx, a.syy+b.syy
	return nil
}

func (a *corrAcc) Result() any {
	if a.n < 2 {
		return math.NaN()
	}
	n := float64(a.n)
	num := n*a.sxy - a.sx*a.sy
	den := math.Sqrt(n*a.sxx-a.sx*a.sx) * math.Sqrt(n*a.syy-a.sy*a.sy)
	return num / den
}

func (a *corrAcc) AppendState(dst []byte) []byte {
	return AppendVarint(appendFloats(dst, a.sx, a.sy, a.sxy, a.sxx, a.syy), a.n)
}

package expr

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// lit is a typed literal; the type is inferred from the Go value.
func lit(v any) *Lit {
	switch v.(type) {
	case nil:
		return &Lit{Type: NullType}
	case bool:
		return &Lit{Value: v, Type: BooleanType}
	case int32:
		return &Lit{Value: v, Type: IntType}
	case int64:
		return &Lit{Value: v, Type: BigintType}
	case float64:
		return &Lit{Value: v, Type: DoubleType}
	case string:
		return &Lit{Value: v, Type: StringType}
	case []byte:
		return &Lit{Value: v, Type: BytesType}
	case Decimal:
		d := v.(Decimal)
		return &Lit{Value: v, Type: DecimalType(int(d.Precision), int(d.Scale))}
	case Timestamp:
		return &Lit{Value: v, Type: TimestampType}
	case Date:
		return &Lit{Value: v, Type: DateType}
	case Time:
		return &Lit{Value: v, Type: TimeType}
	case []any:
		return &Lit{Value: v, Type: ListOf(IntType)}
	}
	panic(fmt.Sprintf("lit(%T)", v))
}

func call(t testing.TB, name string, args ...Node) *Call {
	t.Helper()
	ts := make([]arrow.DataType, len(args))
	for i, a := range args {
		ts[i] = a.DataType()
	}
	fn, err := Resolve(name, ts)
	if err != nil {
		t.Fatalf("Resolve(%s, %v): %v", name, typeNames(ts), err)
	}
	return &Call{Name: name, Args: args, Fn: fn, Type: fn.Result}
}

// evalOne evaluates n over a one-row record without columns and returns the
// value and the row error, if any.
func evalOne(t testing.TB, n Node) (any, error) {
	t.Helper()
	e, err := Compile(n)
	if err != nil {
		t.Fatalf("Compile(%s): %v", n, err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "X", Type: IntType, Nullable: true}}, nil)
	col := MakeArray(IntType, int32(0), 1)
	rec := array.NewRecord(schema, []arrow.Array{col}, 1)
	defer rec.Release()
	col.Release()
	var rowErr error
	ctx := &Ctx{OnRowError: func(_ int, err error) { rowErr = err }}
	out, err := e.Eval(ctx, rec)
	if err != nil {
		t.Fatalf("Eval(%s): %v", n, err)
	}
	defer out.Release()
	if out.Len() != 1 {
		t.Fatalf("Eval(%s): %d rows", n, out.Len())
	}
	return ValueAt(out, 0), rowErr
}

type fcase struct {
	name string
	args []any
	want any
	err  bool // a row error is expected (and the value is NULL)
}

func runCases(t *testing.T, cases []fcase) {
	t.Helper()
	for _, c := range cases {
		args := make([]Node, len(c.args))
		for i, a := range c.args {
			if n, ok := a.(Node); ok {
				args[i] = n
			} else {
				args[i] = lit(a)
			}
		}
		t.Run(fmt.Sprintf("%s%v", c.name, c.args), func(t *testing.T) {
			got, err := evalOne(t, call(t, c.name, args...))
			if c.err != (err != nil) {
				t.Fatalf("row error = %v, want error %v (value %v)", err, c.err, got)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, c.want, c.want)
			}
		})
	}
}

func dec(s string, p, sc int) Decimal {
	d, err := ParseDecimal(s, p, sc)
	if err != nil {
		panic(err)
	}
	return d
}

func TestTypeName(t *testing.T) {
	cases := map[string]arrow.DataType{
		"INTEGER":                         IntType,
		"DECIMAL(4, 2)":                   DecimalType(4, 2),
		"ARRAY<STRING>":                   ListOf(StringType),
		"MAP<STRING, INTEGER>":            MapOf(StringType, IntType),
		"STRUCT<`A` INTEGER, `b` BIGINT>": StructOf(Field("A", IntType), Field("b", BigintType)),
		"TIMESTAMP":                       TimestampType,
	}
	for want, typ := range cases {
		if got := TypeName(typ); got != want {
			t.Errorf("TypeName = %q, want %q", got, want)
		}
	}
}

func TestValueRoundTrip(t *testing.T) {
	typ := StructOf(Field("A", ListOf(IntType)), Field("M", MapOf(StringType, DecimalType(4, 2))), Field("T", TimestampType))
	v := &Struct{Names: []string{"A", "M", "T"}, Values: []any{
		[]any{int32(1), nil, int32(3)},
		&Map{Keys: []any{"x"}, Values: []any{dec("1.5", 4, 2)}},
		Timestamp(1234),
	}}
	a := MakeArray(typ, v, 3)
	defer a.Release()
	for i := 0; i < 3; i++ {
		if got := ValueAt(a, i); !reflect.DeepEqual(got, v) {
			t.Fatalf("row %d: got %#v", i, got)
		}
	}
	b := NewBuilder(BigintType)
	defer b.Release()
	if err := AppendValue(b, "x"); err == nil {
		t.Fatal("appending a string to BIGINT should fail")
	}
}

func TestResolveTypes(t *testing.T) {
	cases := []struct {
		name string
		args []arrow.DataType
		want string
	}{
		{"+", []arrow.DataType{IntType, IntType}, "INTEGER"},
		{"+", []arrow.DataType{IntType, BigintType}, "BIGINT"},
		{"*", []arrow.DataType{DecimalType(4, 2), DoubleType}, "DOUBLE"},
		{"+", []arrow.DataType{DecimalType(4, 2), DecimalType(6, 3)}, "DECIMAL(7, 3)"},
		{"*", []arrow.DataType{DecimalType(4, 2), DecimalType(3, 1)}, "DECIMAL(8, 3)"},
		{"/", []arrow.DataType{DecimalType(4, 2), DecimalType(3, 1)}, "DECIMAL(9, 6)"},
		{"%", []arrow.DataType{DecimalType(4, 2), DecimalType(3, 1)}, "DECIMAL(4, 2)"},
		{"+", []arrow.DataType{IntType, DecimalType(4, 2)}, "DECIMAL(13, 2)"},
		{"+", []arrow.DataType{StringType, StringType}, "STRING"},
		{"=", []arrow.DataType{StringType, TimestampType}, "BOOLEAN"},
		{"ROUND", []arrow.DataType{DoubleType}, "BIGINT"},
		{"ROUND", []arrow.DataType{DecimalType(5, 2)}, "DECIMAL(3, 0)"},
		{"ABS", []arrow.DataType{NullType}, "INTEGER"},
		{"SQRT", []arrow.DataType{IntType}, "DOUBLE"},
		{"COALESCE", []arrow.DataType{IntType, NullType, BigintType}, "BIGINT"},
		{"SUBSTRING", []arrow.DataType{StringType, BigintType}, ""},
		{"SUBSTRING", []arrow.DataType{StringType, IntType}, "STRING"},
		{"ARRAY", []arrow.DataType{IntType, DoubleType}, "ARRAY<DOUBLE>"},
	}
	for _, c := range cases {
		fn, err := Resolve(c.name, c.args)
		got := ""
		if err == nil {
			got = TypeName(fn.Result)
		}
		if got != c.want {
			t.Errorf("Resolve(%s, %v) = %q (%v), want %q", c.name, typeNames(c.args), got, err, c.want)
		}
	}
	_, err := Resolve("NO_SUCH_FN", nil)
	var re *ResolveError
	if !errors.As(err, &re) || !re.Unknown || re.Error() != "Can't find any functions with the name 'NO_SUCH_FN'" {
		t.Errorf("unknown function error = %v", err)
	}
	_, err = Resolve("+", []arrow.DataType{StringType, IntType})
	if !errors.As(err, &re) || re.Error() != "Error processing expression: Unsupported arithmetic types. STRING INTEGER" {
		t.Errorf("bad arithmetic error = %v", err)
	}
	_, err = Resolve("=", []arrow.DataType{IntType, StringType})
	if err == nil || err.Error() != "Cannot compare INTEGER to STRING with EQUAL." {
		t.Errorf("bad comparison error = %v", err)
	}
	if len(Functions()) < 50 {
		t.Errorf("only %d functions registered", len(Functions()))
	}
}

func TestOperators(t *testing.T) {
	runCases(t, []fcase{
		{"+", []any{int32(2), int32(3)}, int32(5), false},
		{"+", []any{int32(math.MaxInt32), int32(1)}, int32(math.MinInt32), false},
		{"/", []any{int32(7), int32(2)}, int32(3), false},
		{"/", []any{int32(-7), int32(2)}, int32(-3), false},
		{"/", []any{int32(7), int32(0)}, nil, true},
		{"%", []any{int64(-7), int64(3)}, int64(-1), false},
		{"%", []any{int64(7), int64(0)}, nil, true},
		{"/", []any{1.0, 0.0}, math.Inf(1), false},
		{"+", []any{int32(1), nil}, nil, false},
		{"+", []any{"a", "b"}, "ab", false},
		{"+", []any{"a", lit(nil)}, "anull", false},
		{"+", []any{dec("1.5", 2, 1), dec("2.25", 3, 2)}, dec("3.75", 4, 2), false},
		{"*", []any{dec("1.5", 2, 1), int32(2)}, dec("3.0", 13, 1), false},
		{"/", []any{dec("1.0", 2, 1), dec("4.0", 2, 1)}, dec("0.25", 8, 6), false},
		{"/", []any{dec("1.0", 2, 1), dec("3.0", 2, 1)}, nil, true},
		{"/", []any{dec("1.0", 2, 1), dec("0.0", 2, 1)}, nil, true},
		{"NEG", []any{dec("1.5", 2, 1)}, dec("-1.5", 2, 1), false},
		{"=", []any{int32(1), int64(1)}, true, false},
		{"=", []any{int32(1), 1.0}, true, false},
		{"<", []any{dec("1.00", 3, 2), 1.5}, true, false},
		{"=", []any{dec("1.0", 2, 1), dec("1.00", 3, 2)}, true, false},
		{"=", []any{int32(1), &Lit{Type: IntType}}, false, false},
		{"<>", []any{int32(1), &Lit{Type: IntType}}, false, false},
		{">", []any{"b", "a"}, true, false},
		{">", []any{Timestamp(1000), "1970-01-01T00:00:00"}, true, false},
		{"=", []any{true, true}, true, false},
		{"AND", []any{true, &Lit{Type: BooleanType}}, nil, false},
		{"AND", []any{false, &Lit{Type: BooleanType}}, false, false},
		{"OR", []any{true, &Lit{Type: BooleanType}}, true, false},
		{"OR", []any{false, &Lit{Type: BooleanType}}, nil, false},
		{"NOT", []any{&Lit{Type: BooleanType}}, nil, false},
		{"NOT", []any{false}, true, false},
		{"IS NULL", []any{&Lit{Type: IntType}}, true, false},
		{"IS NOT NULL", []any{int32(1)}, true, false},
		{"IS DISTINCT FROM", []any{int32(1), &Lit{Type: IntType}}, true, false},
		{"IN", []any{int32(2), int32(1), int64(2)}, true, false},
		{"IN", []any{&Lit{Type: IntType}, int32(1), lit(nil)}, false, false},
		{"BETWEEN", []any{int32(2), int32(1), int32(2)}, true, false},
		{"BETWEEN", []any{"b", "a", "c"}, true, false},
		{"LIKE", []any{"this", "%hi%"}, true, false},
		{"LIKE", []any{"this", "t_is"}, true, false},
		{"LIKE", []any{"th\nis", "th%"}, false, false},
		{"LIKE", []any{"a%b", "a!%b", "!"}, true, false},
		{"LIKE", []any{"axb", "a!%b", "!"}, false, false},
		{"LIKE", []any{"ab", "ab!", "!"}, nil, true},
		{"ARRAY", []any{int32(1), int64(2)}, []any{int64(1), int64(2)}, false},
		{"MAP", []any{"a", int32(1), "b", int32(2)}, &Map{Keys: []any{"a", "b"}, Values: []any{int32(1), int32(2)}}, false},
	})
}

func TestSubscriptAndStruct(t *testing.T) {
	arr := call(t, "ARRAY", lit(int32(10)), lit(int32(20)), lit(int32(30)))
	m := call(t, "MAP", lit("k"), lit(1.5))
	runCases(t, []fcase{
		{"SUBSCRIPT", []any{arr, int32(1)}, int32(10), false},
		{"SUBSCRIPT", []any{arr, int32(-1)}, int32(30), false},
		{"SUBSCRIPT", []any{arr, int32(4)}, nil, false},
		{"SUBSCRIPT", []any{arr, int32(0)}, nil, false},
		{"SUBSCRIPT", []any{m, "k"}, 1.5, false},
		{"SUBSCRIPT", []any{m, "z"}, nil, false},
	})
	ctor, err := StructConstructor([]string{"A", "B"}, []arrow.DataType{IntType, StringType})
	if err != nil {
		t.Fatal(err)
	}
	s := &Call{Name: "STRUCT", Args: []Node{lit(int32(1)), lit("x")}, Fn: ctor, Type: ctor.Result}
	f, err := StructField(s.Type, "B")
	if err != nil {
		t.Fatal(err)
	}
	got, rerr := evalOne(t, &Call{Name: "FIELD", Args: []Node{s}, Fn: f, Type: f.Result})
	if got != "x" || rerr != nil {
		t.Fatalf("s->B = %v, %v", got, rerr)
	}
	if _, err := StructField(s.Type, "Z"); err == nil {
		t.Fatal("missing field resolved")
	}
}

func TestCast(t *testing.T) {
	cases := []struct {
		v    any
		to   arrow.DataType
		want any
		err  bool
	}{
		{1.9, IntType, int32(1), false},
		{-1.9, BigintType, int64(-1), false},
		{math.NaN(), IntType, int32(0), false},
		{1e20, IntType, int32(math.MaxInt32), false},
		{int64(1) << 33, IntType, int32(0), false},
		{dec("12.99", 4, 2), IntType, int32(12), false},
		{1.5, StringType, "1.5", false},
		{1e7, StringType, "1.0E7", false},
		{dec("1.50", 3, 2), StringType, "1.50", false},
		{true, StringType, "true", false},
		{" 12 ", IntType, int32(12), false},
		{"1.0", IntType, nil, true},
		{"12.345", DecimalType(4, 2), dec("12.35", 4, 2), false},
		{"123.4", DecimalType(4, 2), nil, true},
		{1.005, DecimalType(4, 2), dec("1.01", 4, 2), false},
		{int32(100), DecimalType(4, 2), nil, true},
		{dec("1.25", 3, 2), DecimalType(3, 1), dec("1.3", 3, 1), false},
		{"tr", BooleanType, true, false},
		{"no", BooleanType, false, false},
		{"2020-05-26T23", TimestampType, Timestamp(1590534000000), false},
		{"2020-05-26T23:00:00+0100", TimestampType, Timestamp(1590530400000), false},
		{"2020", DateType, Date(18262), false},
		{"10:11", TimeType, Time(36660000), false},
		{Timestamp(1590534000123), StringType, "2020-05-26T23:00:00.123", false},
		{Timestamp(1590534000123), DateType, Date(18408), false},
		{Timestamp(1590534000123), TimeType, Time(82800123), false},
		{Time(36661000), StringType, "10:11:01", false},
		{Time(36660500), StringType, "10:11", false},
		{[]any{int32(1), nil}, StringType, "[1, null]", false},
	}
	for _, c := range cases {
		l := lit(c.v)
		got, err := evalOne(t, &Cast{X: &Lit{Value: c.v, Type: litType(l, c.v)}, Type: c.to})
		if c.err != (err != nil) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("CAST(%v AS %s) = %#v, %v; want %#v (err %v)", c.v, TypeName(c.to), got, err, c.want, c.err)
		}
	}
	if err := CastError(BooleanType, IntType); err == nil || err.Error() != "Cast of BOOLEAN to INTEGER is not supported" {
		t.Errorf("CastError = %v", err)
	}
}

func litType(l *Lit, v any) arrow.DataType {
	if _, ok := v.([]any); ok {
		return ListOf(IntType)
	}
	return l.Type
}

func TestCaseOnlyChosenBranchErrors(t *testing.T) {
	// CASE WHEN x = 0 THEN -1 ELSE 10 / x END over x = 0, 1, 2.
	x := &Col{Index: 0, Name: "X", Type: IntType}
	c := &Case{
		Whens: []CaseWhen{{Cond: call(t, "=", x, lit(int32(0))), Result: lit(int32(-1))}},
		Else:  call(t, "/", lit(int32(10)), x),
		Type:  IntType,
	}
	e, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	col := intColumn([]int32{0, 1, 2}, nil)
	rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "X", Type: IntType, Nullable: true}}, nil), []arrow.Array{col}, 3)
	defer rec.Release()
	col.Release()
	var errs int
	out, err := e.Eval(&Ctx{OnRowError: func(int, error) { errs++ }}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	got := []any{ValueAt(out, 0), ValueAt(out, 1), ValueAt(out, 2)}
	if !reflect.DeepEqual(got, []any{int32(-1), int32(10), int32(5)}) || errs != 0 {
		t.Fatalf("got %v with %d row errors", got, errs)
	}
}

func intColumn(vs []int32, nulls []bool) arrow.Array {
	b := array.NewInt32Builder(mem())
	defer b.Release()
	b.AppendValues(vs, valid(nulls))
	return b.NewArray()
}

func valid(nulls []bool) []bool {
	if nulls == nil {
		return nil
	}
	v := make([]bool, len(nulls))
	for i, n := range nulls {
		v[i] = !n
	}
	return v
}

// randomColumn builds a column of t with about nullPct% NULLs.
func randomColumn(r *rand.Rand, t arrow.DataType, n, nullPct int) arrow.Array {
	b := NewBuilder(t)
	defer b.Release()
	for i := 0; i < n; i++ {
		if r.IntN(100) < nullPct {
			b.AppendNull()
			continue
		}
		var v any
		switch kindOf(t) {
		case kInt:
			v = int32(r.IntN(21) - 10)
		case kBigint:
			v = int64(r.IntN(2001) - 1000)
		case kDouble:
			v = float64(r.IntN(41)-20) / 4
		case kBool:
			v = r.IntN(2) == 0
		}
		if err := AppendValue(b, v); err != nil {
			panic(err)
		}
	}
	return b.NewArray()
}

// TestKernelsMatchGeneric runs every kernel operator on random columns with
// NULLs, sliced at an offset, and compares with the row implementation.
func TestKernelsMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	types := []arrow.DataType{IntType, BigintType, DoubleType}
	binary := []string{"+", "-", "*", "/", "%", "=", "<>", "<", "<=", ">", ">="}
	for _, ta := range types {
		for _, tb := range types {
			for _, op := range binary {
				checkKernel(t, r, op, []arrow.DataType{ta, tb})
			}
		}
		checkKernel(t, r, "NEG", []arrow.DataType{ta})
		checkKernel(t, r, "IS NULL", []arrow.DataType{ta})
		checkKernel(t, r, "IS NOT NULL", []arrow.DataType{ta})
	}
	for _, op := range []string{"AND", "OR"} {
		checkKernel(t, r, op, []arrow.DataType{BooleanType, BooleanType})
	}
	checkKernel(t, r, "NOT", []arrow.DataType{BooleanType})
}

func checkKernel(t *testing.T, r *rand.Rand, op string, ts []arrow.DataType) {
	t.Helper()
	const n, off = 300, 5
	cols := make([]arrow.Array, len(ts))
	fields := make([]arrow.Field, len(ts))
	args := make([]Node, len(ts))
	for i, typ := range ts {
		full := randomColumn(r, typ, n+off, 20)
		cols[i] = array.NewSlice(full, off, n+off) // exercise non-zero offsets
		full.Release()
		fields[i] = arrow.Field{Name: fmt.Sprint("C", i), Type: typ, Nullable: true}
		args[i] = &Col{Index: i, Name: fields[i].Name, Type: typ}
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, n)
	defer rec.Release()
	for _, c := range cols {
		c.Release()
	}
	c := call(t, op, args...)
	if c.Fn.Kernel == nil {
		t.Fatalf("%s%v has no kernel", op, typeNames(ts))
	}
	e, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	kerrs := map[int]bool{}
	out, err := e.Eval(&Ctx{OnRowError: func(row int, _ error) { kerrs[row] = true }}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	for i := 0; i < n; i++ {
		vals := make([]any, len(ts))
		null := false
		for j := range ts {
			vals[j] = ValueAt(rec.Column(j), i)
			null = null || vals[j] == nil
		}
		var want any
		var werr error
		if !(null && c.Fn.NullOnNull) {
			want, werr = c.Fn.Impl(vals)
		}
		got := ValueAt(out, i)
		if (werr != nil) != kerrs[i] || !sameValue(got, want) {
			t.Fatalf("%s%v row %d %v: kernel %v (err %v), generic %v (err %v)", op, typeNames(ts), i, vals, got, kerrs[i], want, werr)
		}
	}
}

func sameValue(a, b any) bool {
	fa, ok1 := a.(float64)
	fb, ok2 := b.(float64)
	if ok1 && ok2 && math.IsNaN(fa) && math.IsNaN(fb) {
		return true
	}
	return reflect.DeepEqual(a, b)
}

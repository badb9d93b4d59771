package expr

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Numeric and conditional functions.

func dbl(f func(float64) float64) ScalarImpl {
	return func(a []any) (any, error) { return f(toFloat(a[0])), nil }
}

func init() {
	const cat = "MATHEMATICAL"
	reg("ABS", cat, "Absolute value.",
		sig("INT -> INT", func(a []any) (any, error) {
			x := a[0].(int32)
			if x < 0 {
				return -x, nil
			}
			return x, nil
		}),
		sig("BIGINT -> BIGINT", func(a []any) (any, error) {
			x := a[0].(int64)
			if x < 0 {
				return -x, nil
			}
			return x, nil
		}),
		sig("DOUBLE -> DOUBLE", dbl(math.Abs)),
		sigFn("DECIMAL -> ?", func([]arrow.DataType, arrow.DataType) ScalarImpl {
			return func(a []any) (any, error) {
				d := a[0].(Decimal)
				return Decimal{V: d.V.Abs(), Precision: d.Precision, Scale: d.Scale}, nil
			}
		}).resultBy(sameType))
	for _, fc := range []struct {
		name string
		mode int
		f    func(float64) float64
	}{{"CEIL", 1, math.Ceil}, {"FLOOR", -1, math.Floor}} {
		fc := fc
		reg(fc.name, cat, "Rounds "+map[int]string{1: "up", -1: "down"}[fc.mode]+" to an integral value.",
			sig("INT -> INT", func(a []any) (any, error) { return a[0], nil }),
			sig("BIGINT -> BIGINT", func(a []any) (any, error) { return a[0], nil }),
			sig("DOUBLE -> DOUBLE", dbl(fc.f)),
			sigFn("DECIMAL -> ?", func([]arrow.DataType, arrow.DataType) ScalarImpl {
				return func(a []any) (any, error) {
					d := a[0].(Decimal)
					return decFromBig(decRoundTo(d, 0, fc.mode), d.Precision, d.Scale)
				}
			}).resultBy(sameType))
	}
	reg("ROUND", cat, "Rounds half away from zero (Math.round for DOUBLE without a scale).",
		sig("INT -> BIGINT", func(a []any) (any, error) { return int64(a[0].(int32)), nil }),
		sig("BIGINT -> BIGINT", func(a []any) (any, error) { return a[0], nil }),
		sig("DOUBLE -> BIGINT", func(a []any) (any, error) { return javaRound(a[0].(float64)), nil }),
		sigFn("DECIMAL -> ?", func(_ []arrow.DataType, r arrow.DataType) ScalarImpl {
			p, s := decParams(r)
			return func(a []any) (any, error) {
				d := a[0].(Decimal)
				return decFromBig(roundHalfCeiling(d.V.BigInt(), d.Scale-s), p, s)
			}
		}).resultBy(func(ts []arrow.DataType) (arrow.DataType, error) {
			// ksqlDB keeps the integer digits: DECIMAL(33, 16) rounds to
			// DECIMAL(17, 0).
			p, s := decParams(ts[0])
			return DecimalType(int(max(1, p-s)), 0), nil
		}),
		sig("DOUBLE, INT -> DOUBLE", func(a []any) (any, error) { return roundDouble(a[0].(float64), int(a[1].(int32)), false), nil }),
		sigFn("DECIMAL, INT -> ?", func(_ []arrow.DataType, r arrow.DataType) ScalarImpl {
			p, s := decParams(r)
			return func(a []any) (any, error) {
				d := a[0].(Decimal)
				v := roundHalfCeiling(d.V.BigInt(), d.Scale-int32(a[1].(int32)))
				// back to the original scale
				k := int32(a[1].(int32))
				return decFromBig(scaleBig(v, s-k), p, s)
			}
		}).resultBy(sameType))
	reg("TRUNC", cat, "Truncates toward zero.",
		sig("INT -> BIGINT", func(a []any) (any, error) { return int64(a[0].(int32)), nil }),
		sig("BIGINT -> BIGINT", func(a []any) (any, error) { return a[0], nil }),
		sig("DOUBLE -> BIGINT", func(a []any) (any, error) { return javaD2L(a[0].(float64), math.MinInt64, math.MaxInt64), nil }),
		sigFn("DECIMAL -> ?", func(_ []arrow.DataType, r arrow.DataType) ScalarImpl {
			p, _ := decParams(r)
			return func(a []any) (any, error) {
				d := a[0].(Decimal)
				v := d.V.BigInt()
				v.Quo(v, pow10Big(d.Scale))
				return decFromBig(v, p, 0)
			}
		}).resultBy(func(ts []arrow.DataType) (arrow.DataType, error) {
			p, s := decParams(ts[0])
			return DecimalType(int(max(1, p-s)), 0), nil
		}),
		sig("DOUBLE, INT -> DOUBLE", func(a []any) (any, error) { return roundDouble(a[0].(float64), int(a[1].(int32)), true), nil }),
		sigFn("DECIMAL, INT -> ?", func(_ []arrow.DataType, r arrow.DataType) ScalarImpl {
			p, s := decParams(r)
			return func(a []any) (any, error) {
				return decFromBig(decRoundTo(a[0].(Decimal), int32(a[1].(int32)), 0), p, s)
			}
		}).resultBy(sameType))
	reg("SIGN", cat, "Sign of a number (-1, 0, 1).",
		sig("INT -> INT", func(a []any) (any, error) { return int32(signOf(float64(a[0].(int32)))), nil }),
		sig("BIGINT -> INT", func(a []any) (any, error) { return int32(signOf(float64(a[0].(int64)))), nil }),
		sig("DOUBLE -> INT", func(a []any) (any, error) { return int32(signOf(a[0].(float64))), nil }),
		sig("DECIMAL -> INT", func(a []any) (any, error) { return int32(a[0].(Decimal).V.Sign()), nil }))
	for name, f := range map[string]func(float64) float64{
		"SQRT": math.Sqrt, "EXP": math.Exp, "LN": math.Log, "CBRT": math.Cbrt,
		"SIN": math.Sin, "COS": math.Cos, "TAN": math.Tan, "ASIN": math.Asin, "ACOS": math.Acos, "ATAN": math.Atan,
		"SINH": math.Sinh, "COSH": math.Cosh, "TANH": math.Tanh,
		"COT":     func(x float64) float64 { return 1 / math.Tan(x) },
		"DEGREES": func(x float64) float64 { return x * 180 / math.Pi },
		"RADIANS": func(x float64) float64 { return x / 180 * math.Pi },
	} {
		reg(name, cat, name+" of a number, as DOUBLE.", sig("DOUBLE -> DOUBLE", dbl(f)))
	}
	// ksqlDB documents LOG(x) as base 10 but implements it with Math.log;
	// the implementation is what queries see.
	reg("LOG", cat, "Natural logarithm, or LOG(base, value).",
		sig("DOUBLE -> DOUBLE", dbl(math.Log)),
		sig("DOUBLE, DOUBLE -> DOUBLE", func(a []any) (any, error) {
			b, v := a[0].(float64), a[1].(float64)
			if b <= 0 || b == 1 {
				return math.NaN(), nil // no such base
			}
			return math.Log(v) / math.Log(b), nil
		}))
	reg("POWER", cat, "Raises a base to an exponent.", sig("DOUBLE, DOUBLE -> DOUBLE", func(a []any) (any, error) {
		return math.Pow(a[0].(float64), a[1].(float64)), nil
	}))
	reg("ATAN2", cat, "Arc tangent of y/x.", sig("DOUBLE, DOUBLE -> DOUBLE", func(a []any) (any, error) {
		return math.Atan2(a[0].(float64), a[1].(float64)), nil
	}))
	reg("PI", cat, "The constant pi.", sig(" -> DOUBLE", func([]any) (any, error) { return math.Pi, nil }))
	reg("RANDOM", cat, "Uniform random DOUBLE in [0, 1).", sig(" -> DOUBLE", func([]any) (any, error) { return rand.Float64(), nil }))
	for name, sign := range map[string]int{"GREATEST": 1, "LEAST": -1} {
		f := regCustom(name, cat, "", extremumSigs(name), false, func(args []arrow.DataType) (*Func, error) {
			return resolveExtremum(name, sign, args)
		})
		f.info.Description = map[int]string{1: "Largest non-NULL argument.", -1: "Smallest non-NULL argument."}[sign]
	}
	reg("GENERATE_SERIES", cat, "Array of values from start to end inclusive.",
		sig("INT, INT -> ARRAY<INT>", func(a []any) (any, error) { return series(int64(a[0].(int32)), int64(a[1].(int32)), 0, true) }),
		sig("INT, INT, INT -> ARRAY<INT>", func(a []any) (any, error) {
			return seriesStep(a, true)
		}),
		sig("BIGINT, BIGINT -> ARRAY<BIGINT>", func(a []any) (any, error) { return series(toInt64(a[0]), toInt64(a[1]), 0, false) }),
		sig("BIGINT, BIGINT, INT -> ARRAY<BIGINT>", func(a []any) (any, error) { return seriesStep(a, false) }))

	const cond = "CONDITIONAL"
	reg("COALESCE", cond, "First non-NULL argument.", sig("T, T... -> T", func(a []any) (any, error) {
		for _, x := range a {
			if x != nil {
				return x, nil
			}
		}
		return nil, nil
	}).nullable())
	reg("IFNULL", cond, "The first argument, or the second when it is NULL.", sig("T, T -> T", func(a []any) (any, error) {
		if a[0] != nil {
			return a[0], nil
		}
		return a[1], nil
	}).nullable())
	reg("NULLIF", cond, "NULL when both arguments are equal, else the first.", sig("T, T -> T", func(a []any) (any, error) {
		if a[0] == nil || valuesEqual(a[0], a[1]) {
			return nil, nil
		}
		return a[0], nil
	}).nullable())
	reg("AS_VALUE", cond, "Copies a key column into the value.", sig("T -> T", func(a []any) (any, error) { return a[0], nil }).nullable())
}

func sameType(ts []arrow.DataType) (arrow.DataType, error) { return ts[0], nil }

func signOf(f float64) int {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

// javaRound is Math.round: floor(x + 0.5), saturating, NaN -> 0.
func javaRound(x float64) int64 {
	if math.IsNaN(x) {
		return 0
	}
	return javaD2L(math.Floor(x+0.5), math.MinInt64, math.MaxInt64)
}

// roundDouble rounds (or truncates) x to d decimal places on the decimal
// text of x (BigDecimal.valueOf), half away from zero.
// roundHalfCeiling divides v by 10^k (k > 0) rounding half toward positive
// infinity: ksqlDB's ROUND uses HALF_UP for positive and HALF_DOWN for
// negative values to agree with Math.round, so ROUND(-1.5) is -1.
func roundHalfCeiling(v *big.Int, k int32) *big.Int {
	if k <= 0 || v.Sign() >= 0 {
		return roundHalfUp(v, k)
	}
	d := pow10Big(k)
	q, r := new(big.Int).QuoRem(v, d, new(big.Int)) // q truncated toward zero
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(d) > 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

func roundDouble(x float64, d int, trunc bool) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	bd, err := parseDecimalText(strconv.FormatFloat(x, 'g', -1, 64))
	if err != nil {
		return x
	}
	drop := bd.scale - int32(d)
	v := bd.unscaled
	if drop > 0 {
		if trunc {
			v = new(big.Int).Quo(v, pow10Big(drop))
		} else {
			v = roundHalfCeiling(v, drop)
		}
		f, _ := strconv.ParseFloat(bigDecString(v, int32(d)), 64)
		return f
	}
	return x
}

// scaleBig multiplies by 10^k (k >= 0) or divides exactly (k < 0).
func scaleBig(v *big.Int, k int32) *big.Int {
	if k >= 0 {
		return v.Mul(v, pow10Big(k))
	}
	return v.Quo(v, pow10Big(-k))
}

// extremumTypes are the types ksqlDB's GREATEST and LEAST have a Java
// overload (T, T...) for.
var extremumTypes = []arrow.DataType{IntType, BigintType, DoubleType, DecimalType(MaxDecimalPrecision, 0),
	StringType, BytesType, DateType, TimeType, TimestampType}

func extremumSigs(name string) []string {
	out := make([]string, len(extremumTypes))
	for i, t := range extremumTypes {
		tn := TypeName(t)
		if kindOf(t) == kDecimal {
			tn = "DECIMAL"
		}
		out[i] = fmt.Sprintf("%s(%s, %s...) -> %s", name, tn, tn, tn)
	}
	return out
}

// resolveExtremum resolves GREATEST or LEAST the way ksqlDB picks among its
// per-type overloads: arguments whose non-NULL types are all one type take
// that overload (DECIMALs widen to fit them all); otherwise every overload
// all arguments convert to implicitly is a candidate (numbers widen, a
// STRING converts to DATE, TIME and TIMESTAMP), and only a single candidate
// resolves: GREATEST(INT, BIGINT) is ambiguous in ksqlDB, since the BIGINT,
// DECIMAL and DOUBLE overloads all accept it.
func resolveExtremum(name string, sign int, args []arrow.DataType) (*Func, error) {
	lname := strings.ToLower(name)
	names := make([]string, len(args))
	var exact arrow.DataType = NullType
	uniform := true
	for i, a := range args {
		names[i] = TypeName(a)
		if kindOf(a) == kNull {
			names[i] = "null" // as ksqlDB prints an untyped NULL
			continue
		}
		switch {
		case kindOf(exact) == kNull:
			exact = a
		case kindOf(exact) == kDecimal && kindOf(a) == kDecimal:
			exact = widenNumeric(exact, a)
		case !typesEqual(exact, a):
			uniform = false
		}
	}
	fail := func(format string) (*Func, error) {
		return nil, &ResolveError{Name: name, Args: names, Msg: fmt.Sprintf(format, lname, strings.Join(names, ", ")) +
			"\nValid alternatives are:\n" + strings.Join(extremumSigs(name), "\n")}
	}
	if len(args) == 0 {
		return fail("Function '%s' does not accept parameters (%s).")
	}
	target := exact
	if !uniform || kindOf(exact) == kNull {
		var cands []arrow.DataType
		for _, t := range extremumTypes {
			if t, ok := extremumTarget(t, args); ok {
				cands = append(cands, t)
			}
		}
		switch len(cands) {
		case 0:
			return fail("Function '%s' does not accept parameters (%s).")
		case 1:
			target = cands[0]
		default:
			return fail("Function '%s' cannot be resolved due to ambiguous method parameters (%s).")
		}
	}
	params := make([]arrow.DataType, len(args))
	for i := range params {
		params[i] = target
	}
	return &Func{Name: name, Result: target, Impl: coerceArgs(extremum(sign), args, params)}, nil
}

// extremumTarget reports whether every argument converts implicitly to the
// overload type t, and the parameter type then (a DECIMAL overload takes
// the DECIMAL that fits every argument).
func extremumTarget(t arrow.DataType, args []arrow.DataType) (arrow.DataType, bool) {
	kt := kindOf(t)
	if kt == kDecimal {
		t = NullType
	}
	for _, a := range args {
		ka := kindOf(a)
		switch {
		case ka == kNull:
		case kt == kDecimal && (ka == kInt || ka == kBigint || ka == kDecimal):
			t = widenNumeric(t, a)
		case kt == kDecimal:
			return nil, false
		case (kt == kDate || kt == kTime || kt == kTimestamp) && ka == kString:
		case !implicitlyConvertible(a, t):
			return nil, false
		}
	}
	if kindOf(t) == kNull {
		t = DecimalType(MaxDecimalPrecision, 0)
	}
	return t, true
}

func extremum(sign int) ScalarImpl {
	return func(a []any) (any, error) {
		var best any
		for _, x := range a {
			if x == nil {
				continue
			}
			if best == nil {
				best = x
				continue
			}
			if c, ok := compareValues(x, best); ok && c*sign > 0 {
				best = x
			}
		}
		return best, nil
	}
}

func seriesStep(a []any, isInt bool) (any, error) {
	if a[2] == nil {
		return nil, fmt.Errorf("GENERATE_SERIES arguments must not be NULL")
	}
	if toInt64(a[2]) == 0 {
		return nil, fmt.Errorf("GENERATE_SERIES step cannot be zero")
	}
	return series(toInt64(a[0]), toInt64(a[1]), toInt64(a[2]), isInt)
}

func series(start, end, step int64, isInt bool) (any, error) {
	if step == 0 {
		if end >= start {
			step = 1
		} else {
			step = -1
		}
	}
	if (end > start && step < 0) || (end < start && step > 0) {
		return nil, fmt.Errorf("GENERATE_SERIES step has wrong sign")
	}
	var out []any
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		if isInt {
			out = append(out, int32(v))
		} else {
			out = append(out, v)
		}
		if len(out) > 1_000_000 {
			return nil, fmt.Errorf("GENERATE_SERIES result too large")
		}
	}
	return out, nil
}

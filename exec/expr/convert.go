package expr

import (
	"fmt"
	"math/big"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// NewBuilder returns a builder for t using Go's allocator.
func NewBuilder(t arrow.DataType) array.Builder {
	return array.NewBuilder(memory.DefaultAllocator, t)
}

// ValueAt returns row i of a as a Go value (value.go). Strings and byte
// slices alias nothing: strings are immutable and BYTES are copied, so the
// value outlives the array.
func ValueAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		dt := a.DataType().(*arrow.Decimal128Type)
		return Decimal{V: a.Value(i), Precision: dt.Precision, Scale: dt.Scale}
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.Date32:
		return Date(a.Value(i))
	case *array.Time32:
		return Time(a.Value(i))
	case *array.Timestamp:
		return Timestamp(a.Value(i))
	case *array.Map:
		// *array.Map embeds *array.List; match it first.
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		m := &Map{Keys: make([]any, 0, end-start), Values: make([]any, 0, end-start)}
		for j := int(start); j < int(end); j++ {
			m.Keys = append(m.Keys, ValueAt(keys, j))
			m.Values = append(m.Values, ValueAt(items, j))
		}
		return m
	case *array.List:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			out = append(out, ValueAt(vals, j))
		}
		return out
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		s := &Struct{Names: make([]string, st.NumFields()), Values: make([]any, st.NumFields())}
		for f := 0; f < st.NumFields(); f++ {
			s.Names[f] = st.Field(f).Name
			s.Values[f] = ValueAt(a.Field(f), i)
		}
		return s
	case *array.Null:
		return nil
	}
	panic(fmt.Sprintf("expr.ValueAt: unsupported array type %s", a.DataType()))
}

// AppendValue appends v to b. v must be nil or a value of b's SQL type in
// the value.go representation; numeric values are also accepted for any
// numeric builder they widen to (an int32 into a BIGINT builder), and a
// DECIMAL is rescaled to the builder's scale when that is exact.
func AppendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.Int32Builder:
		if x, ok := v.(int32); ok {
			b.Append(x)
			return nil
		}
	case *array.Int64Builder:
		switch x := v.(type) {
		case int64:
			b.Append(x)
			return nil
		case int32:
			b.Append(int64(x))
			return nil
		}
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			b.Append(x)
			return nil
		case int32:
			b.Append(float64(x))
			return nil
		case int64:
			b.Append(float64(x))
			return nil
		case Decimal:
			b.Append(x.V.ToFloat64(x.Scale))
			return nil
		}
	case *array.Decimal128Builder:
		n, err := decimalNum(v, b.Type().(*arrow.Decimal128Type))
		if err != nil {
			return err
		}
		b.Append(n)
		return nil
	case *array.StringBuilder:
		if x, ok := v.(string); ok {
			b.Append(x)
			return nil
		}
	case *array.BinaryBuilder:
		switch x := v.(type) {
		case []byte:
			b.Append(x)
			return nil
		}
	case *array.Date32Builder:
		if x, ok := v.(Date); ok {
			b.Append(arrow.Date32(x))
			return nil
		}
	case *array.Time32Builder:
		if x, ok := v.(Time); ok {
			b.Append(arrow.Time32(x))
			return nil
		}
	case *array.TimestampBuilder:
		if x, ok := v.(Timestamp); ok {
			b.Append(arrow.Timestamp(x))
			return nil
		}
	case *array.MapBuilder:
		m, ok := v.(*Map)
		if !ok {
			break
		}
		b.Append(true)
		kb, ib := b.KeyBuilder(), b.ItemBuilder()
		for j := range m.Keys {
			if m.Keys[j] == nil {
				return fmt.Errorf("MAP keys cannot be NULL")
			}
			if err := AppendValue(kb, m.Keys[j]); err != nil {
				return err
			}
			if err := AppendValue(ib, m.Values[j]); err != nil {
				return err
			}
		}
		return nil
	case *array.ListBuilder:
		l, ok := v.([]any)
		if !ok {
			break
		}
		b.Append(true)
		vb := b.ValueBuilder()
		for _, e := range l {
			if err := AppendValue(vb, e); err != nil {
				return err
			}
		}
		return nil
	case *array.StructBuilder:
		s, ok := v.(*Struct)
		if !ok {
			break
		}
		if len(s.Values) != b.NumField() {
			return fmt.Errorf("struct value has %d fields, type has %d", len(s.Values), b.NumField())
		}
		b.Append(true)
		for f := 0; f < b.NumField(); f++ {
			if err := AppendValue(b.FieldBuilder(f), s.Values[f]); err != nil {
				return err
			}
		}
		return nil
	case *array.NullBuilder:
		return fmt.Errorf("cannot append a non-NULL %T to a NULL column", v)
	}
	return fmt.Errorf("cannot append %T to a %s column", v, TypeName(b.Type()))
}

// MakeArray returns an array of n copies of v (a constant column).
func MakeArray(t arrow.DataType, v any, n int) arrow.Array {
	if kindOf(t) == kNull {
		return array.NewNull(n)
	}
	b := NewBuilder(t)
	defer b.Release()
	b.Reserve(n)
	if v == nil {
		b.AppendNulls(n)
		return b.NewArray()
	}
	for i := 0; i < n; i++ {
		if err := AppendValue(b, v); err != nil {
			panic(fmt.Sprintf("expr.MakeArray: %v", err))
		}
	}
	return b.NewArray()
}

// pow10 caches powers of ten as big.Ints for decimal rescaling.
var pow10 = func() [80]*big.Int {
	var p [80]*big.Int
	p[0] = big.NewInt(1)
	ten := big.NewInt(10)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], ten)
	}
	return p
}()

func pow10Big(n int32) *big.Int {
	if int(n) < len(pow10) {
		return pow10[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// rescaleExact converts d to scale s without rounding and checks that it
// fits precision p.
func rescaleExact(d Decimal, p, s int32) (decimal128.Num, error) {
	if d.Scale == s && fitsI64(d.V) && fitsPrecision(int64(d.V.LowBits()), p) {
		return d.V, nil // the common case, without two big.Int conversions
	}
	v := d.V.BigInt()
	if s >= d.Scale {
		v.Mul(v, pow10Big(s-d.Scale))
	} else {
		q, r := new(big.Int).QuoRem(v, pow10Big(d.Scale-s), new(big.Int))
		if r.Sign() != 0 {
			return decimal128.Num{}, fmt.Errorf("rounding necessary to fit %s into DECIMAL(%d, %d)", decString(d), p, s)
		}
		v = q
	}
	return fitDecimal(v, p, s)
}

// decimalNum converts an INT, BIGINT or DECIMAL value to the unscaled
// value of type dt, exactly (AppendValue's rule for DECIMAL columns).
func decimalNum(v any, dt *arrow.Decimal128Type) (decimal128.Num, error) {
	var d Decimal
	switch x := v.(type) {
	case Decimal:
		d = x
	case int32:
		d = Decimal{V: decimal128.FromI64(int64(x)), Precision: 10}
	case int64:
		d = Decimal{V: decimal128.FromI64(x), Precision: 19}
	default:
		return decimal128.Num{}, fmt.Errorf("cannot append %T to %s", v, TypeName(dt))
	}
	return rescaleExact(d, dt.Precision, dt.Scale)
}

// fitDecimal checks that unscaled v fits DECIMAL(p, s).
func fitDecimal(v *big.Int, p, s int32) (decimal128.Num, error) {
	if new(big.Int).Abs(v).Cmp(pow10Big(p)) >= 0 {
		return decimal128.Num{}, fmt.Errorf("Numeric field overflow: A field with precision %d and scale %d must round to an absolute value less than 10^%d. Got %s",
			p, s, p-s, bigDecString(v, s))
	}
	return decimal128.FromBigInt(v), nil
}

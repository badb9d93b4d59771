package codec

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluicedb/sluice/exec/expr"
)

// IsNullRecord reports whether data is a null key or value in s's format:
// a Kafka null, or for JSON a document that is just `null` (ksqlDB reads
// both as a NULL row: a tombstone for a table, a null value for a stream).
// Decode appends NULL to every column for such records; sources call
// IsNullRecord to tell them apart from a row whose columns are all NULL.
func IsNullRecord(s Spec, data []byte) bool {
	if data == nil {
		return true
	}
	if s.Format != JSON || s.Window != NotWindowed {
		return false
	}
	sc := scanner{b: data}
	if sc.next() != 'n' || sc.lit("null") != nil {
		return false
	}
	return sc.next() == 0
}

// specTypes lists the Arrow types of a spec's columns, window columns
// included.
func specTypes(s Spec) []arrow.DataType {
	ts := make([]arrow.DataType, 0, len(s.Fields)+2)
	for _, f := range s.Fields {
		ts = append(ts, f.Type)
	}
	if s.Window != NotWindowed {
		ts = append(ts, arrow.FixedWidthTypes.Timestamp_ms, arrow.FixedWidthTypes.Timestamp_ms)
	}
	return ts
}

// EncodeValue encodes one row, given as Go values in expr's representation
// (value.go: nil, bool, int32, int64, float64, expr.Decimal, string, []byte,
// expr.Date, expr.Time, expr.Timestamp, []any, *expr.Map, *expr.Struct), one
// per field plus WINDOWSTART and WINDOWEND for a windowed spec. It builds
// one-row arrays and runs the format's columnar encoder, so INSERT VALUES
// writes exactly the bytes a query would. The result is nil for a Kafka
// null (a NULL unwrapped value).
func EncodeValue(dst []byte, s Spec, values []any) ([]byte, error) {
	enc, err := NewEncoder(s)
	if err != nil {
		return nil, err
	}
	types := specTypes(s)
	if len(values) != len(types) {
		return nil, fmt.Errorf("codec: %d values for %d %s columns", len(values), len(types), s.Format)
	}
	cols := make([]arrow.Array, len(types))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, t := range types {
		b := array.NewBuilder(memory.DefaultAllocator, t)
		err := appendGo(b, t, values[i])
		cols[i] = b.NewArray()
		b.Release()
		if err != nil {
			return nil, &EncodeError{Format: s.Format, Column: columnName(s, i), Err: err}
		}
	}
	return enc.Encode(dst, cols, 0)
}

// DecodeToValues decodes one key or value into Go values (expr's
// representation), one per field plus WINDOWSTART and WINDOWEND for a
// windowed spec. A null record (see IsNullRecord) gives nil values and no
// error. It runs the format's columnar decoder on one-row builders.
func DecodeToValues(s Spec, data []byte) ([]any, error) {
	dec, err := NewDecoder(s)
	if err != nil {
		return nil, err
	}
	if IsNullRecord(s, data) {
		return nil, nil
	}
	types := specTypes(s)
	bs := make([]array.Builder, len(types))
	for i, t := range types {
		bs[i] = array.NewBuilder(memory.DefaultAllocator, t)
		defer bs[i].Release()
	}
	if err := dec.Decode(data, bs); err != nil {
		return nil, err
	}
	out := make([]any, len(types))
	for i, b := range bs {
		a := b.NewArray()
		out[i] = expr.ValueAt(a, 0)
		a.Release()
	}
	return out, nil
}

func columnName(s Spec, i int) string {
	switch {
	case i < len(s.Fields):
		return quoteIdent(s.Fields[i].Name)
	case i == len(s.Fields):
		return "WINDOWSTART"
	}
	return "WINDOWEND"
}

// appendGo appends v (expr's representation) to b, whose type is t.
func appendGo(b array.Builder, t arrow.DataType, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	mismatch := func() error {
		b.AppendNull()
		return convertErr(fmt.Sprintf("cannot store Go value of type %T in a column of type %s", v, t))
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return mismatch()
		}
		b.Append(x)
	case *array.Int32Builder:
		x, ok := v.(int32)
		if !ok {
			return mismatch()
		}
		b.Append(x)
	case *array.Int64Builder:
		x, ok := v.(int64)
		if !ok {
			return mismatch()
		}
		b.Append(x)
	case *array.Float64Builder:
		x, ok := v.(float64)
		if !ok {
			return mismatch()
		}
		b.Append(x)
	case *array.Decimal128Builder:
		x, ok := v.(expr.Decimal)
		if !ok {
			return mismatch()
		}
		dt := t.(*arrow.Decimal128Type)
		n, err := rescale(x.V, x.Scale, dt.Scale, dt.Precision)
		if err != nil {
			b.AppendNull()
			return err
		}
		b.Append(n)
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return mismatch()
		}
		b.Append(x)
	case *array.BinaryBuilder:
		x, ok := v.([]byte)
		if !ok {
			return mismatch()
		}
		b.Append(x)
	case *array.Date32Builder:
		x, ok := v.(expr.Date)
		if !ok {
			return mismatch()
		}
		b.Append(arrow.Date32(x))
	case *array.Time32Builder:
		x, ok := v.(expr.Time)
		if !ok {
			return mismatch()
		}
		b.Append(arrow.Time32(x))
	case *array.TimestampBuilder:
		x, ok := v.(expr.Timestamp)
		if !ok {
			return mismatch()
		}
		b.Append(arrow.Timestamp(x))
	case *array.MapBuilder:
		x, ok := v.(*expr.Map)
		if !ok || len(x.Keys) != len(x.Values) {
			return mismatch()
		}
		mt := t.(*arrow.MapType)
		b.Append(true)
		for k := range x.Keys {
			if x.Keys[k] == nil {
				b.KeyBuilder().AppendEmptyValue()
				b.ItemBuilder().AppendNull()
				return convertErr("a MAP key cannot be NULL")
			}
			if err := appendGo(b.KeyBuilder(), mt.KeyType(), x.Keys[k]); err != nil {
				b.ItemBuilder().AppendNull()
				return err
			}
			if err := appendGo(b.ItemBuilder(), mt.ItemType(), x.Values[k]); err != nil {
				return err
			}
		}
	case *array.ListBuilder:
		x, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		et := t.(*arrow.ListType).Elem()
		b.Append(true)
		for _, e := range x {
			if err := appendGo(b.ValueBuilder(), et, e); err != nil {
				return err
			}
		}
	case *array.StructBuilder:
		x, ok := v.(*expr.Struct)
		st := t.(*arrow.StructType)
		if !ok || len(x.Values) != st.NumFields() {
			return mismatch()
		}
		b.Append(true)
		var first error
		for k := range x.Values {
			fb := b.FieldBuilder(k)
			if first != nil {
				fb.AppendNull()
				continue
			}
			first = appendGo(fb, st.Field(k).Type, x.Values[k])
		}
		return first
	default:
		return mismatch()
	}
	return nil
}

package expr

import (
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Canonical Arrow types of the SQL types. Every column, literal and function
// result of a given SQL type uses exactly these Arrow types, so type equality
// is arrow.TypeEqual. (The names carry a Type suffix because value.go already
// declares the Go value types Date, Time and Timestamp.)
var (
	NullType      arrow.DataType = arrow.Null
	BooleanType   arrow.DataType = arrow.FixedWidthTypes.Boolean
	IntType       arrow.DataType = arrow.PrimitiveTypes.Int32
	BigintType    arrow.DataType = arrow.PrimitiveTypes.Int64
	DoubleType    arrow.DataType = arrow.PrimitiveTypes.Float64
	StringType    arrow.DataType = arrow.BinaryTypes.String
	BytesType     arrow.DataType = arrow.BinaryTypes.Binary
	DateType      arrow.DataType = arrow.FixedWidthTypes.Date32
	TimeType      arrow.DataType = arrow.FixedWidthTypes.Time32ms
	TimestampType arrow.DataType = &arrow.TimestampType{Unit: arrow.Millisecond}
)

// MaxDecimalPrecision is the largest DECIMAL precision Decimal128 holds.
// ksqlDB's BigDecimal is unbounded; derived arithmetic types are capped here.
const MaxDecimalPrecision = 38

// DecimalType is DECIMAL(p, s).
func DecimalType(p, s int) arrow.DataType {
	return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}
}

// ListOf is ARRAY<t>; elements are nullable.
func ListOf(t arrow.DataType) arrow.DataType { return arrow.ListOf(t) }

// MapOf is MAP<k, v>; values are nullable, keys are not (Arrow's rule).
func MapOf(k, v arrow.DataType) arrow.DataType { return arrow.MapOf(k, v) }

// StructOf is STRUCT<fields...>. Fields are made nullable: every SQL value
// may be NULL.
func StructOf(fields ...arrow.Field) arrow.DataType {
	fs := make([]arrow.Field, len(fields))
	for i, f := range fields {
		fs[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
	}
	return arrow.StructOf(fs...)
}

// Field is a convenience for StructOf.
func Field(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

// kind is the SQL type family of an Arrow type; kernels and casts switch on it.
type kind uint8

const (
	kUnknown kind = iota
	kNull
	kBool
	kInt
	kBigint
	kDouble
	kDecimal
	kString
	kBytes
	kDate
	kTime
	kTimestamp
	kArray
	kMap
	kStruct
)

func kindOf(t arrow.DataType) kind {
	if t == nil {
		return kUnknown
	}
	switch t.ID() {
	case arrow.NULL:
		return kNull
	case arrow.BOOL:
		return kBool
	case arrow.INT32:
		return kInt
	case arrow.INT64:
		return kBigint
	case arrow.FLOAT64:
		return kDouble
	case arrow.DECIMAL128:
		return kDecimal
	case arrow.STRING:
		return kString
	case arrow.BINARY:
		return kBytes
	case arrow.DATE32:
		return kDate
	case arrow.TIME32:
		return kTime
	case arrow.TIMESTAMP:
		return kTimestamp
	case arrow.LIST:
		return kArray
	case arrow.MAP:
		return kMap
	case arrow.STRUCT:
		return kStruct
	}
	return kUnknown
}

func isNumericKind(k kind) bool { return k == kInt || k == kBigint || k == kDouble || k == kDecimal }

// IsNumeric reports whether t is INT, BIGINT, DOUBLE or DECIMAL.
func IsNumeric(t arrow.DataType) bool { return isNumericKind(kindOf(t)) }

// decParams returns a DECIMAL type's precision and scale, or the implicit
// decimal of an integer type (INT -> DECIMAL(10,0), BIGINT -> DECIMAL(19,0)).
func decParams(t arrow.DataType) (p, s int32) {
	switch kindOf(t) {
	case kDecimal:
		d := t.(*arrow.Decimal128Type)
		return d.Precision, d.Scale
	case kInt:
		return 10, 0
	case kBigint:
		return 19, 0
	}
	return 0, 0
}

// TypeName renders t with ksqlDB's type names, as DESCRIBE and error messages
// print them: INTEGER, BIGINT, DECIMAL(4, 2), ARRAY<STRING>,
// MAP<STRING, INTEGER>, STRUCT<`A` INTEGER>. The NULL type prints as NULL.
func TypeName(t arrow.DataType) string {
	var b strings.Builder
	writeTypeName(&b, t)
	return b.String()
}

func writeTypeName(b *strings.Builder, t arrow.DataType) {
	switch kindOf(t) {
	case kNull:
		b.WriteString("NULL")
	case kBool:
		b.WriteString("BOOLEAN")
	case kInt:
		b.WriteString("INTEGER")
	case kBigint:
		b.WriteString("BIGINT")
	case kDouble:
		b.WriteString("DOUBLE")
	case kDecimal:
		p, s := decParams(t)
		b.WriteString("DECIMAL(" + strconv.Itoa(int(p)) + ", " + strconv.Itoa(int(s)) + ")")
	case kString:
		b.WriteString("STRING")
	case kBytes:
		b.WriteString("BYTES")
	case kDate:
		b.WriteString("DATE")
	case kTime:
		b.WriteString("TIME")
	case kTimestamp:
		b.WriteString("TIMESTAMP")
	case kArray:
		b.WriteString("ARRAY<")
		writeTypeName(b, t.(*arrow.ListType).Elem())
		b.WriteString(">")
	case kMap:
		m := t.(*arrow.MapType)
		b.WriteString("MAP<")
		writeTypeName(b, m.KeyType())
		b.WriteString(", ")
		writeTypeName(b, m.ItemType())
		b.WriteString(">")
	case kStruct:
		st := t.(*arrow.StructType)
		b.WriteString("STRUCT<")
		for i, f := range st.Fields() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + f.Name + "` ")
			writeTypeName(b, f.Type)
		}
		b.WriteString(">")
	default:
		if t == nil {
			b.WriteString("UNKNOWN")
			return
		}
		b.WriteString(strings.ToUpper(t.String()))
	}
}

// typesEqual is arrow.TypeEqual except that struct field nullability and map
// key-sortedness, which SQL does not express, are ignored.
func typesEqual(a, b arrow.DataType) bool {
	ka, kb := kindOf(a), kindOf(b)
	if ka != kb {
		return false
	}
	switch ka {
	case kDecimal:
		pa, sa := decParams(a)
		pb, sb := decParams(b)
		return pa == pb && sa == sb
	case kArray:
		return typesEqual(a.(*arrow.ListType).Elem(), b.(*arrow.ListType).Elem())
	case kMap:
		ma, mb := a.(*arrow.MapType), b.(*arrow.MapType)
		return typesEqual(ma.KeyType(), mb.KeyType()) && typesEqual(ma.ItemType(), mb.ItemType())
	case kStruct:
		fa, fb := a.(*arrow.StructType).Fields(), b.(*arrow.StructType).Fields()
		if len(fa) != len(fb) {
			return false
		}
		for i := range fa {
			if fa[i].Name != fb[i].Name || !typesEqual(fa[i].Type, fb[i].Type) {
				return false
			}
		}
		return true
	case kUnknown:
		return arrow.TypeEqual(a, b)
	}
	return true
}

// TypesEqual reports whether a and b are the same SQL type.
func TypesEqual(a, b arrow.DataType) bool { return typesEqual(a, b) }

// widenNumeric returns the common type of two numeric types under ksqlDB's
// widening order INT < BIGINT < DECIMAL < DOUBLE. Two decimals (or a decimal
// and an integer) widen to a decimal that holds both.
func widenNumeric(a, b arrow.DataType) arrow.DataType {
	ka, kb := kindOf(a), kindOf(b)
	switch {
	case ka == kNull:
		return b
	case kb == kNull:
		return a
	case ka == kDouble || kb == kDouble:
		return DoubleType
	case ka == kDecimal || kb == kDecimal:
		pa, sa := decParams(a)
		pb, sb := decParams(b)
		s := max(sa, sb)
		p := max(pa-sa, pb-sb) + s
		return DecimalType(int(min(p, MaxDecimalPrecision)), int(s))
	case ka == kBigint || kb == kBigint:
		return BigintType
	default:
		return IntType
	}
}

// CommonType returns the type all of ts convert to implicitly (numbers widen,
// NULL goes with anything; other types must be equal), or false.
func CommonType(ts ...arrow.DataType) (arrow.DataType, bool) {
	var out arrow.DataType = NullType
	for _, t := range ts {
		switch {
		case kindOf(t) == kNull:
		case kindOf(out) == kNull:
			out = t
		case IsNumeric(out) && IsNumeric(t):
			out = widenNumeric(out, t)
		case typesEqual(out, t):
		default:
			return nil, false
		}
	}
	return out, true
}

// implicitlyConvertible reports whether a value of type from is accepted
// where to is expected without a CAST (numeric widening and NULL).
func implicitlyConvertible(from, to arrow.DataType) bool {
	kf, kt := kindOf(from), kindOf(to)
	if kf == kNull {
		return true
	}
	if typesEqual(from, to) {
		return true
	}
	if !isNumericKind(kf) || !isNumericKind(kt) {
		return false
	}
	switch kt {
	case kBigint:
		return kf == kInt
	case kDecimal:
		if kf == kDouble {
			return false
		}
		pf, sf := decParams(from)
		pt, st := decParams(to)
		return pf-sf <= pt-st && sf <= st
	case kDouble:
		return true
	}
	return false
}

package sql

import (
	"strconv"
	"strings"
)

// TypeKind enumerates ksqlDB's SQL types.
type TypeKind uint8

const (
	TypeUnknown TypeKind = iota
	TypeBoolean
	TypeInt    // 32-bit signed
	TypeBigint // 64-bit signed
	TypeDouble
	TypeDecimal // Precision, Scale
	TypeString  // STRING and VARCHAR
	TypeBytes
	TypeDate      // days since the epoch
	TypeTime      // milliseconds since midnight
	TypeTimestamp // milliseconds since the epoch, UTC
	TypeArray     // Elem
	TypeMap       // Key, Value
	TypeStruct    // Fields
)

// Type is a SQL type as written in DDL or CAST. Types are values; compare them
// with Equal.
type Type struct {
	Kind      TypeKind
	Precision int     // DECIMAL
	Scale     int     // DECIMAL
	Elem      *Type   // ARRAY
	Key       *Type   // MAP
	Value     *Type   // MAP
	Fields    []Field // STRUCT, in declaration order
	Name      string  // for a type named by CREATE TYPE, its name (already resolved)
}

// Field is a STRUCT field. Names keep the case the user wrote when quoted and
// are upper-cased otherwise, like every identifier.
type Field struct {
	Name string
	Type *Type
}

// Equal reports whether two types are the same SQL type.
func (t *Type) Equal(u *Type) bool {
	if t == nil || u == nil {
		return t == u
	}
	if t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case TypeDecimal:
		return t.Precision == u.Precision && t.Scale == u.Scale
	case TypeArray:
		return t.Elem.Equal(u.Elem)
	case TypeMap:
		return t.Key.Equal(u.Key) && t.Value.Equal(u.Value)
	case TypeStruct:
		if len(t.Fields) != len(u.Fields) {
			return false
		}
		for i := range t.Fields {
			if t.Fields[i].Name != u.Fields[i].Name || !t.Fields[i].Type.Equal(u.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

// String renders t the way ksqlDB prints types in DESCRIBE and in
// post-condition schemas: `INTEGER`, `BIGINT`, `DECIMAL(4, 2)`,
// `ARRAY<STRING>`, `MAP<STRING, INTEGER>`, `STRUCT<`A` INTEGER>`.
func (t *Type) String() string {
	if t == nil {
		return "NULL"
	}
	switch t.Kind {
	case TypeBoolean:
		return "BOOLEAN"
	case TypeInt:
		return "INTEGER"
	case TypeBigint:
		return "BIGINT"
	case TypeDouble:
		return "DOUBLE"
	case TypeDecimal:
		return "DECIMAL(" + strconv.Itoa(t.Precision) + ", " + strconv.Itoa(t.Scale) + ")"
	case TypeString:
		return "STRING"
	case TypeBytes:
		return "BYTES"
	case TypeDate:
		return "DATE"
	case TypeTime:
		return "TIME"
	case TypeTimestamp:
		return "TIMESTAMP"
	case TypeArray:
		return "ARRAY<" + t.Elem.String() + ">"
	case TypeMap:
		return "MAP<" + t.Key.String() + ", " + t.Value.String() + ">"
	case TypeStruct:
		var b strings.Builder
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + f.Name + "` " + f.Type.String())
		}
		b.WriteString(">")
		return b.String()
	}
	return "UNKNOWN"
}

// Convenience constructors for primitive types.
var (
	Boolean   = &Type{Kind: TypeBoolean}
	Int       = &Type{Kind: TypeInt}
	Bigint    = &Type{Kind: TypeBigint}
	Double    = &Type{Kind: TypeDouble}
	String    = &Type{Kind: TypeString}
	Bytes     = &Type{Kind: TypeBytes}
	Date      = &Type{Kind: TypeDate}
	Time      = &Type{Kind: TypeTime}
	Timestamp = &Type{Kind: TypeTimestamp}
)

// Decimal returns DECIMAL(p, s).
func Decimal(p, s int) *Type { return &Type{Kind: TypeDecimal, Precision: p, Scale: s} }

// ArrayOf returns ARRAY<elem>.
func ArrayOf(elem *Type) *Type { return &Type{Kind: TypeArray, Elem: elem} }

// MapOf returns MAP<k, v>.
func MapOf(k, v *Type) *Type { return &Type{Kind: TypeMap, Key: k, Value: v} }

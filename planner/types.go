package planner

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// ArrowType returns the canonical Arrow type of a SQL type (see expr's
// types.go). It returns nil for nil or an unresolved type.
func ArrowType(t *sql.Type) arrow.DataType {
	if t == nil {
		return nil
	}
	switch t.Kind {
	case sql.TypeBoolean:
		return expr.BooleanType
	case sql.TypeInt:
		return expr.IntType
	case sql.TypeBigint:
		return expr.BigintType
	case sql.TypeDouble:
		return expr.DoubleType
	case sql.TypeDecimal:
		return expr.DecimalType(t.Precision, t.Scale)
	case sql.TypeString:
		return expr.StringType
	case sql.TypeBytes:
		return expr.BytesType
	case sql.TypeDate:
		return expr.DateType
	case sql.TypeTime:
		return expr.TimeType
	case sql.TypeTimestamp:
		return expr.TimestampType
	case sql.TypeArray:
		if e := ArrowType(t.Elem); e != nil {
			return expr.ListOf(e)
		}
	case sql.TypeMap:
		k, v := ArrowType(t.Key), ArrowType(t.Value)
		if k != nil && v != nil {
			return expr.MapOf(k, v)
		}
	case sql.TypeStruct:
		fs := make([]arrow.Field, len(t.Fields))
		for i, f := range t.Fields {
			ft := ArrowType(f.Type)
			if ft == nil {
				return nil
			}
			fs[i] = expr.Field(f.Name, ft)
		}
		return expr.StructOf(fs...)
	}
	return nil
}

// SQLType is the inverse of ArrowType. It returns nil for the NULL type and
// for Arrow types that are not canonical SQL types.
func SQLType(t arrow.DataType) *sql.Type {
	if t == nil {
		return nil
	}
	switch t.ID() {
	case arrow.BOOL:
		return sql.Boolean
	case arrow.INT32:
		return sql.Int
	case arrow.INT64:
		return sql.Bigint
	case arrow.FLOAT64:
		return sql.Double
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		return sql.Decimal(int(d.Precision), int(d.Scale))
	case arrow.STRING:
		return sql.String
	case arrow.BINARY:
		return sql.Bytes
	case arrow.DATE32:
		return sql.Date
	case arrow.TIME32:
		return sql.Time
	case arrow.TIMESTAMP:
		return sql.Timestamp
	case arrow.MAP:
		m := t.(*arrow.MapType)
		k, v := SQLType(m.KeyType()), SQLType(m.ItemType())
		if k == nil || v == nil {
			return nil
		}
		return sql.MapOf(k, v)
	case arrow.LIST:
		e := SQLType(t.(*arrow.ListType).Elem())
		if e == nil {
			return nil
		}
		return sql.ArrayOf(e)
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		out := &sql.Type{Kind: sql.TypeStruct, Fields: make([]sql.Field, st.NumFields())}
		for i, f := range st.Fields() {
			ft := SQLType(f.Type)
			if ft == nil {
				return nil
			}
			out.Fields[i] = sql.Field{Name: f.Name, Type: ft}
		}
		return out
	}
	return nil
}

// resolveType replaces named types (CREATE TYPE) by their definitions,
// recursively. The front end leaves a named type as Kind TypeUnknown with
// Name set when it could not resolve it itself.
func resolveType(cat Catalog, t *sql.Type, pos sql.Pos) (*sql.Type, error) {
	if t == nil {
		return nil, nil
	}
	switch t.Kind {
	case sql.TypeUnknown:
		if t.Name == "" {
			return nil, sql.Errorf(sql.CodeSyntax, pos, "unknown type")
		}
		if cat != nil {
			if def, ok := cat.Type(t.Name); ok {
				return resolveType(cat, def, pos)
			}
		}
		return nil, sql.Errorf(sql.CodeUndefinedObject, pos, "type '%s' does not exist", t.Name).
			WithHint("create it with CREATE TYPE %s AS <type>, or use a built-in type", t.Name)
	case sql.TypeArray:
		e, err := resolveType(cat, t.Elem, pos)
		if err != nil {
			return nil, err
		}
		if e == t.Elem {
			return t, nil
		}
		return sql.ArrayOf(e), nil
	case sql.TypeMap:
		k, err := resolveType(cat, t.Key, pos)
		if err != nil {
			return nil, err
		}
		v, err := resolveType(cat, t.Value, pos)
		if err != nil {
			return nil, err
		}
		if k == t.Key && v == t.Value {
			return t, nil
		}
		return sql.MapOf(k, v), nil
	case sql.TypeStruct:
		var fs []sql.Field
		for i, f := range t.Fields {
			ft, err := resolveType(cat, f.Type, pos)
			if err != nil {
				return nil, err
			}
			if ft != f.Type && fs == nil {
				fs = append([]sql.Field(nil), t.Fields...)
			}
			if fs != nil {
				fs[i] = sql.Field{Name: f.Name, Type: ft}
			}
		}
		if fs == nil {
			return t, nil
		}
		return &sql.Type{Kind: sql.TypeStruct, Fields: fs, Name: t.Name}, nil
	}
	return t, nil
}

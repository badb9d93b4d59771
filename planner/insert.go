package planner

import (
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// InsertRow is a bound INSERT INTO ... VALUES: the record to write.
type InsertRow struct {
	Source *Source
	// Key and Value hold Go values (exec/expr/value.go) in the order of
	// KeySpec.Fields and ValueSpec.Fields.
	Key, Value []any
	// Timestamp is the ROWTIME given in the column list, or nil for "now".
	Timestamp          *int64
	KeySpec, ValueSpec codec.Spec
}

// BindInsertValues evaluates INSERT INTO target [(cols)] VALUES (...).
// Values are constant expressions (functions allowed), converted to the
// column types with ksqlDB's strict rules: numbers widen, strings become
// TIMESTAMP/DATE/TIME/BYTES, collections convert element-wise, nothing
// narrows.
func BindInsertValues(cat Catalog, stmt *sql.InsertValues, props Props) (*InsertRow, error) {
	src, ok := cat.Source(stmt.Target)
	if !ok {
		if up := strings.ToUpper(stmt.Target); up != stmt.Target {
			if _, ok := cat.Source(up); ok {
				// A quoted lower-case name: ksqlDB's message and advice.
				return nil, sql.Errorf(sql.CodeUndefinedTable, stmt.TargetAt,
					"Cannot insert values into an unknown stream/table: `%s`\nDid you mean %s? Hint: try removing double quotes from the source name.",
					stmt.Target, up)
			}
		}
		return nil, sql.Errorf(sql.CodeUndefinedTable, stmt.TargetAt, "Cannot insert values into an unknown stream/table: `%s`", stmt.Target).
			WithHint("create it first with CREATE STREAM or CREATE TABLE")
	}
	kind := strings.ToLower(src.Kind.String())
	if src.IsSource {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, stmt.TargetAt, "Cannot insert values into read-only %s: %s", kind, src.Name)
	}
	if src.Window != nil {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, stmt.TargetAt, "Cannot insert values into windowed %s!", kind)
	}
	keyCols, valCols := src.KeyColumns(), src.ValueColumns()
	// Target columns: named, or every key and value column.
	type target struct {
		name string
		col  *Column // nil for ROWTIME
		at   sql.Pos
	}
	var targets []target
	if len(stmt.Columns) == 0 {
		for _, c := range append(append([]Column(nil), keyCols...), valCols...) {
			targets = append(targets, target{name: c.Name, col: &c, at: stmt.TargetAt})
		}
	} else {
		seen := map[string]bool{}
		for _, id := range stmt.Columns {
			if seen[id.Name] {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, id.At, "Column %s is given more than once", id.Name)
			}
			seen[id.Name] = true
			switch id.Name {
			case colRowtime:
				targets = append(targets, target{name: id.Name, at: id.At})
				continue
			case colRowpartition, colRowoffset, colWindowstart, colWindowend:
				return nil, sql.Errorf(sql.CodeFeatureNotSupported, id.At, "Inserting into column `%s` is not allowed.", id.Name).
					WithHint("%s is a pseudo column, derived when a record is read", id.Name)
			}
			var col *Column
			for i := range src.Columns {
				if src.Columns[i].Name == id.Name {
					col = &src.Columns[i]
				}
			}
			if col == nil {
				return nil, sql.Errorf(sql.CodeUndefinedColumn, id.At, "Column name %s does not exist", id.Name).
					WithHint("the columns of %s are %s", src.Name, strings.Join(columnNames(src.Columns), ", "))
			}
			if col.Role == sql.ColHeaders || col.Role == sql.ColHeader {
				return nil, sql.Errorf(sql.CodeFeatureNotSupported, id.At, "Cannot insert into HEADER columns: %s", id.Name)
			}
			targets = append(targets, target{name: id.Name, col: col, at: id.At})
		}
	}
	if len(stmt.Columns) > 0 && len(targets) != len(stmt.Values) {
		return nil, sql.Errorf(sql.CodeSyntax, stmt.At, "Expected number columns and values to match: %d, %d",
			len(targets), len(stmt.Values)).WithHint("give one value for each column named in the column list")
	}
	if len(targets) != len(stmt.Values) {
		names := make([]string, len(targets))
		for i, t := range targets {
			names[i] = t.name
		}
		vals := make([]string, len(stmt.Values))
		for i, v := range stmt.Values {
			vals[i] = exprText(v)
		}
		return nil, sql.Errorf(sql.CodeSyntax, stmt.At, "Expected a value for each column. Expected Columns: [%s]. Got [%s]",
			strings.Join(names, ", "), strings.Join(vals, ", "))
	}
	if src.Kind == sql.KindTable {
		var missing []string
		for _, k := range keyCols {
			found := false
			for _, t := range targets {
				found = found || t.name == k.Name
			}
			if !found {
				missing = append(missing, k.Name)
			}
		}
		if len(missing) > 0 {
			return nil, sql.Errorf(sql.CodeInvalidParameter, stmt.At, "Value for primary key column(s) %s is required for tables",
				strings.Join(missing, ", "))
		}
	}
	b := &binder{cat: cat, sc: &scope{}}
	values := map[string]any{}
	row := &InsertRow{Source: src}
	for i, t := range targets {
		n, err := b.bind(stmt.Values[i])
		if err != nil {
			return nil, err
		}
		want := expr.BigintType
		if t.col != nil {
			want = ArrowType(t.col.Type)
		}
		v, err := insertValue(n, want, t.name, stmt.Values[i])
		if err != nil {
			return nil, err
		}
		if t.col == nil {
			if v == nil {
				return nil, sql.Errorf(sql.CodeInvalidParameter, stmt.Values[i].Position(), "ROWTIME must not be NULL")
			}
			ts := v.(int64)
			row.Timestamp = &ts
			continue
		}
		values[t.name] = v
	}
	for _, c := range keyCols {
		row.Key = append(row.Key, values[c.Name])
	}
	for _, c := range valCols {
		row.Value = append(row.Value, values[c.Name])
	}
	var err error
	if row.KeySpec, row.ValueSpec, err = CodecSpecs(src); err != nil {
		return nil, sql.Errorf(sql.CodeInternal, stmt.TargetAt, "%v", err)
	}
	return row, nil
}

// insertValue evaluates n and converts it to want.
func insertValue(n expr.Node, want arrow.DataType, col string, e sql.Expr) (any, error) {
	have := n.DataType()
	if !insertConvertible(have, want) {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.Position(), "Expected type %s for field %s but got %s(%s)",
			expr.TypeName(want), col, expr.TypeName(have), exprText(e)).
			WithHint("CAST the value to %s", expr.TypeName(want))
	}
	if !expr.TypesEqual(have, want) {
		if isNullLit(n) {
			return nil, nil
		}
		n = &expr.Cast{X: n, Type: want}
	}
	v, err := evalConst(n)
	if err != nil {
		return nil, sql.Errorf(sql.CodeDataException, e.Position(), "cannot insert %s into %s: %v", exprText(e), col, err)
	}
	return v, nil
}

// insertConvertible is ksqlDB's rule for INSERT VALUES: INT to BIGINT,
// DECIMAL or DOUBLE; BIGINT to DECIMAL or DOUBLE; DECIMAL to a DECIMAL
// (when it fits, checked on conversion) or DOUBLE; STRING to TIMESTAMP,
// DATE, TIME or BYTES; collections element-wise.
func insertConvertible(from, to arrow.DataType) bool {
	if from.ID() == arrow.NULL || expr.TypesEqual(from, to) {
		return true
	}
	switch from.ID() {
	case arrow.INT32:
		return to.ID() == arrow.INT64 || to.ID() == arrow.DECIMAL128 || to.ID() == arrow.FLOAT64
	case arrow.INT64, arrow.DECIMAL128:
		return to.ID() == arrow.DECIMAL128 || to.ID() == arrow.FLOAT64
	case arrow.STRING:
		switch to.ID() {
		case arrow.TIMESTAMP, arrow.DATE32, arrow.TIME32, arrow.BINARY:
			return true
		}
	case arrow.LIST:
		return to.ID() == arrow.LIST && insertConvertible(from.(*arrow.ListType).Elem(), to.(*arrow.ListType).Elem())
	case arrow.MAP:
		if to.ID() != arrow.MAP {
			return false
		}
		f, t := from.(*arrow.MapType), to.(*arrow.MapType)
		return insertConvertible(f.KeyType(), t.KeyType()) && insertConvertible(f.ItemType(), t.ItemType())
	case arrow.STRUCT:
		if to.ID() != arrow.STRUCT {
			return false
		}
		f, t := from.(*arrow.StructType), to.(*arrow.StructType)
		for _, ff := range f.Fields() {
			i, ok := t.FieldIdx(ff.Name)
			if !ok || !insertConvertible(ff.Type, t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

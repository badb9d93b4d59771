package pgcatalog

import (
	"strconv"
	"strings"
)

// The functions catalog queries call. Functions about objects sluice does
// not have (indexes, constraints, comments, publications) answer NULL or
// false, as Postgres does for an object without them.

var aggregates = map[string]bool{
	"count": true, "sum": true, "min": true, "max": true, "string_agg": true, "array_agg": true,
	"bool_and": true, "bool_or": true, "every": true,
}

// funcType is a function's result type, when fixed.
func funcType(name string) uint32 {
	switch name {
	case "version", "current_database", "current_schema", "current_user", "session_user", "user",
		"current_catalog", "current_role", "format_type", "pg_get_userbyid", "pg_encoding_to_char",
		"array_to_string", "quote_ident", "quote_literal", "current_setting", "pg_size_pretty",
		"pg_get_expr", "obj_description", "col_description", "shobj_description", "lower", "upper",
		"pg_get_function_result", "pg_get_function_arguments", "pg_get_function_identity_arguments",
		"pg_get_viewdef", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_triggerdef",
		"concat", "string_agg", "pg_get_statisticsobjdef_columns", "pg_get_partkeydef", "pg_get_function_sqlbody":
		return OIDText
	case "pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible", "pg_collation_is_visible",
		"pg_is_in_recovery", "has_table_privilege", "has_schema_privilege", "has_database_privilege",
		"pg_relation_is_publishable", "bool_and", "bool_or", "every":
		return OIDBool
	case "count", "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size":
		return OIDInt8
	case "pg_backend_pid", "length", "array_length", "array_upper", "cardinality":
		return OIDInt4
	case "current_schemas", "array_agg":
		return OIDTextArray
	}
	return 0
}

func (ev *evaluator) callFunc(name string, args []any) (any, error) {
	db := ev.db
	arg := func(i int) any {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	switch name {
	case "version":
		return db.Version, nil
	case "current_database", "current_catalog":
		return db.Database, nil
	case "current_schema":
		return "public", nil
	case "current_schemas":
		if arg(0) == true {
			return []any{"pg_catalog", "public"}, nil
		}
		return []any{"public"}, nil
	case "current_user", "session_user", "user", "current_role":
		return db.User, nil
	case "pg_backend_pid":
		return db.PID, nil
	case "pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible", "pg_collation_is_visible",
		"pg_opclass_is_visible", "pg_operator_is_visible", "pg_conversion_is_visible",
		"has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege",
		"has_function_privilege":
		return true, nil
	case "pg_is_in_recovery", "pg_relation_is_publishable":
		return false, nil
	case "pg_get_userbyid":
		return db.User, nil
	case "pg_encoding_to_char":
		return "UTF8", nil
	case "pg_get_function_result":
		p, ok := db.procByOID(arg(0))
		if !ok || p.sig == nil {
			return nil, nil
		}
		return typeDisplay(p.sig.Result), nil
	case "pg_get_function_arguments", "pg_get_function_identity_arguments":
		p, ok := db.procByOID(arg(0))
		if !ok || p.sig == nil {
			return nil, nil
		}
		// ksqlDB signatures name no parameters, so there are only types,
		// as for a Postgres function declared without argument names.
		parts := make([]string, len(p.sig.Args))
		for i, a := range p.sig.Args {
			parts[i] = typeDisplay(a)
		}
		if p.sig.Variadic && len(parts) > 0 {
			parts[len(parts)-1] = "VARIADIC " + parts[len(parts)-1]
		}
		return strings.Join(parts, ", "), nil
	case "obj_description":
		// Only functions have descriptions here (\df+ shows them).
		if toText(arg(1)) != "pg_proc" {
			return nil, nil
		}
		if p, ok := db.procByOID(arg(0)); ok && p.fn.Description != "" {
			return p.fn.Description, nil
		}
		return nil, nil
	case "pg_get_viewdef":
		// A stream or table's definition is the statement that created it;
		// for a derived one (CREATE STREAM ... AS SELECT) that includes
		// its query, which is what a Postgres view definition shows.
		if r, ok := db.relationByOID(arg(0)); ok && r.Definition != "" {
			return r.Definition, nil
		}
		return nil, nil
	case "pg_get_expr", "col_description", "shobj_description",
		"pg_get_indexdef", "pg_get_constraintdef", "pg_get_triggerdef", "pg_get_statisticsobjdef_columns",
		"pg_get_partkeydef", "pg_get_serial_sequence", "pg_get_function_sqlbody":
		return nil, nil
	case "format_type":
		oid, ok := toInt(arg(0))
		if !ok {
			return nil, nil
		}
		t, found := typeByOID(uint32(oid))
		if !found {
			return "???", nil
		}
		if mod, ok := toInt(arg(1)); ok && t.oid == OIDNumeric && mod >= 4 {
			return "numeric(" + strconv.FormatInt((mod-4)>>16, 10) + "," + strconv.FormatInt((mod-4)&0xffff, 10) + ")", nil
		}
		return t.display, nil
	case "array_to_string":
		arr, ok := arg(0).([]any)
		if !ok {
			return nil, nil
		}
		var parts []string
		for _, e := range arr {
			if e == nil {
				if s, ok := arg(2).(string); ok {
					parts = append(parts, s)
				}
				continue
			}
			parts = append(parts, toText(e))
		}
		return strings.Join(parts, toText(arg(1))), nil
	case "array_length", "array_upper", "cardinality":
		arr, ok := arg(0).([]any)
		if !ok || len(arr) == 0 {
			return nil, nil
		}
		return int64(len(arr)), nil
	case "quote_ident":
		s := toText(arg(0))
		if s != "" && s == strings.ToLower(s) && isSimpleIdent(s) {
			return s, nil
		}
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`, nil
	case "quote_literal":
		if arg(0) == nil {
			return nil, nil
		}
		return "'" + strings.ReplaceAll(toText(arg(0)), "'", "''") + "'", nil
	case "lower":
		if arg(0) == nil {
			return nil, nil
		}
		return strings.ToLower(toText(arg(0))), nil
	case "upper":
		if arg(0) == nil {
			return nil, nil
		}
		return strings.ToUpper(toText(arg(0))), nil
	case "length", "char_length":
		if arg(0) == nil {
			return nil, nil
		}
		return int64(len([]rune(toText(arg(0))))), nil
	case "coalesce":
		for _, a := range args {
			if a != nil {
				return a, nil
			}
		}
		return nil, nil
	case "nullif":
		if r, _ := compareOp("=", arg(0), arg(1)); r == true {
			return nil, nil
		}
		return arg(0), nil
	case "concat":
		var b strings.Builder
		for _, a := range args {
			b.WriteString(toText(a))
		}
		return b.String(), nil
	case "current_setting":
		if db.Setting != nil {
			if v, ok := db.Setting(toText(arg(0))); ok {
				return v, nil
			}
		}
		if arg(1) == true {
			return nil, nil
		}
		return nil, errorf("42704", "unrecognized configuration parameter %q", toText(arg(0)))
	case "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size":
		return int64(0), nil
	case "pg_size_pretty":
		n, _ := toInt(arg(0))
		return strconv.FormatInt(n, 10) + " bytes", nil
	}
	return nil, errorf("42883", "function %s does not exist", name)
}

// typeDisplay is format_type's spelling of a type without a modifier.
func typeDisplay(oid uint32) string {
	if t, ok := typeByOID(oid); ok {
		return t.display
	}
	return "???"
}

func isSimpleIdent(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// cast converts a value to a type by name. regclass and regtype turn oids
// into names and names into oids, as psql uses them.
func (ev *evaluator) cast(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "text", "varchar", "name", "bpchar", "character", "char", "unknown":
		return toText(v), nil
	case "int", "int4", "integer", "int2", "smallint", "int8", "bigint", "oid", "regproc", "regprocedure":
		if n, ok := toInt(v); ok {
			return n, nil
		}
		return nil, errorf("22P02", "invalid input syntax for type %s: %q", typ, toText(v))
	case "bool", "boolean":
		switch s := strings.ToLower(toText(v)); s {
		case "t", "true", "yes", "on", "1":
			return true, nil
		case "f", "false", "no", "off", "0":
			return false, nil
		}
		return nil, errorf("22P02", "invalid input syntax for type boolean: %q", toText(v))
	case "float4", "real", "float8", "numeric", "decimal":
		if f, ok := toFloat(v); ok {
			return f, nil
		}
		f, err := strconv.ParseFloat(toText(v), 64)
		if err != nil {
			return nil, errorf("22P02", "invalid input syntax for type %s: %q", typ, toText(v))
		}
		return f, nil
	case "regclass":
		if n, ok := v.(int64); ok {
			if n == 0 {
				// Postgres prints the invalid oid 0 of every reg* type so.
				return "-", nil
			}
			if i := int(n) - relOIDBase; i >= 0 && i < len(ev.db.Relations) {
				return ev.db.Relations[i].Name, nil
			}
			return strconv.FormatInt(n, 10), nil
		}
		name := toText(v)
		for i, r := range ev.db.Relations {
			if r.Name == name || strings.EqualFold(r.Name, name) && name == strings.ToLower(name) {
				return int64(relOIDBase + i), nil
			}
		}
		return nil, errorf("42P01", "relation %q does not exist", name)
	case "regtype":
		if n, ok := v.(int64); ok {
			if n == 0 {
				return "-", nil
			}
			if t, found := typeByOID(uint32(n)); found {
				return t.display, nil
			}
			return strconv.FormatInt(n, 10), nil
		}
		for _, t := range types {
			if t.name == toText(v) || t.display == toText(v) {
				return int64(t.oid), nil
			}
		}
		return nil, errorf("42704", "type %q does not exist", toText(v))
	case "regnamespace":
		n, _ := toInt(v)
		switch n {
		case nsPgCatalog:
			return "pg_catalog", nil
		case nsPublic:
			return "public", nil
		case nsInfo:
			return "information_schema", nil
		}
		return toText(v), nil
	}
	if strings.HasSuffix(typ, "[]") {
		if a, ok := v.([]any); ok {
			return a, nil
		}
		return nil, errorf("0A000", "array literals are not supported in catalog queries")
	}
	// json and other types keep their value.
	return v, nil
}

func (ev *evaluator) aggregate(c *call, sc *scope) (any, error) {
	if sc.group == nil && sc.row != nil {
		return nil, errorf("42803", "aggregate function %s is not allowed here", c.name)
	}
	var vals []any
	for _, row := range sc.group {
		if c.star {
			vals = append(vals, true)
			continue
		}
		if len(c.args) == 0 {
			return nil, errorf("42883", "function %s() does not exist", c.name)
		}
		v, err := ev.eval(c.args[0], &scope{bindings: sc.bindings, row: row, outer: sc.outer})
		if err != nil {
			return nil, err
		}
		if v != nil {
			vals = append(vals, v)
		}
	}
	if c.distinct {
		vals = distinctRows1(vals)
	}
	switch c.name {
	case "count":
		return int64(len(vals)), nil
	case "array_agg":
		if len(vals) == 0 {
			return nil, nil
		}
		return vals, nil
	case "string_agg":
		if len(vals) == 0 {
			return nil, nil
		}
		sep := ""
		if len(c.args) > 1 {
			s, err := ev.eval(c.args[1], sc)
			if err != nil {
				return nil, err
			}
			sep = toText(s)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = toText(v)
		}
		return strings.Join(parts, sep), nil
	}
	if len(vals) == 0 {
		return nil, nil
	}
	switch c.name {
	case "sum":
		var acc any = int64(0)
		for _, v := range vals {
			r, err := arith("+", acc, v)
			if err != nil {
				return nil, err
			}
			acc = r
		}
		return acc, nil
	case "min", "max":
		best := vals[0]
		for _, v := range vals[1:] {
			cmp, err := compare(v, best)
			if err != nil {
				return nil, err
			}
			if c.name == "min" && cmp < 0 || c.name == "max" && cmp > 0 {
				best = v
			}
		}
		return best, nil
	case "bool_and", "every":
		for _, v := range vals {
			if v == false {
				return false, nil
			}
		}
		return true, nil
	case "bool_or":
		for _, v := range vals {
			if v == true {
				return true, nil
			}
		}
		return false, nil
	}
	return nil, errorf("42883", "function %s does not exist", c.name)
}

func distinctRows1(vals []any) []any {
	seen := map[string]bool{}
	var out []any
	for _, v := range vals {
		k := toText(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

// tableFunc evaluates a function in FROM.
func (ev *evaluator) tableFunc(c *call, sc *scope) (*table, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := ev.eval(a, sc)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	switch c.name {
	case "unnest":
		t := &table{cols: []string{"unnest"}, types: []uint32{0}}
		if len(args) > 0 {
			arr, _ := args[0].([]any)
			for _, v := range arr {
				t.rows = append(t.rows, []any{v})
			}
		}
		return t, nil
	case "generate_series":
		t := &table{cols: []string{"generate_series"}, types: []uint32{OIDInt4}}
		if len(args) < 2 {
			return nil, errorf("42883", "generate_series needs a start and a stop")
		}
		lo, ok1 := toInt(args[0])
		hi, ok2 := toInt(args[1])
		step := int64(1)
		if len(args) > 2 {
			step, _ = toInt(args[2])
		}
		if !ok1 || !ok2 || step == 0 {
			return t, nil
		}
		for i := lo; (step > 0 && i <= hi) || (step < 0 && i >= hi); i += step {
			t.rows = append(t.rows, []any{i})
			if len(t.rows) > 100000 {
				return nil, errorf("54000", "generate_series is limited to 100000 rows here")
			}
		}
		return t, nil
	case "pg_options_to_table":
		t := &table{cols: []string{"option_name", "option_value"}, types: []uint32{OIDText, OIDText}}
		if len(args) > 0 {
			arr, _ := args[0].([]any)
			for _, v := range arr {
				k, val, _ := strings.Cut(toText(v), "=")
				t.rows = append(t.rows, []any{k, val})
			}
		}
		return t, nil
	}
	return nil, errorf("42883", "function %s does not exist as a table function", c.name)
}

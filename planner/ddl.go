package planner

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/sql"
)

// Pseudo column names. They are reserved: no user column may take them.
const (
	colRowtime      = "ROWTIME"
	colRowpartition = "ROWPARTITION"
	colRowoffset    = "ROWOFFSET"
	colWindowstart  = "WINDOWSTART"
	colWindowend    = "WINDOWEND"
)

func isReservedName(name string) bool {
	switch name {
	case colRowtime, colRowpartition, colRowoffset, colWindowstart, colWindowend:
		return true
	}
	return false
}

// headersType is the only type a HEADERS column may have.
var headersType = sql.ArrayOf(&sql.Type{Kind: sql.TypeStruct, Fields: []sql.Field{
	{Name: "KEY", Type: sql.String}, {Name: "VALUE", Type: sql.Bytes}}})

// BindCreateSource checks CREATE STREAM/TABLE with declared columns and
// returns the catalog entry it defines. It does not look at Kafka: whether
// the topic exists (and PARTITIONS is then needed) is the engine's check.
func BindCreateSource(cat Catalog, stmt *sql.CreateSource, props Props) (*Source, error) {
	if stmt.Query != nil {
		return nil, sql.Errorf(sql.CodeInternal, stmt.At, "CREATE %s AS SELECT must be planned with PlanPersistent", stmt.Kind)
	}
	if stmt.OrReplace && stmt.Source {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, stmt.At,
			"Cannot add %s '%s': CREATE OR REPLACE is not supported on source %ss",
			strings.ToLower(stmt.Kind.String()), stmt.Name, strings.ToLower(stmt.Kind.String()))
	}
	if old, ok := cat.Source(stmt.Name); ok && stmt.OrReplace && old.IsSource {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, stmt.At,
			"Cannot add %s '%s': CREATE OR REPLACE is not supported on source %ss.",
			strings.ToLower(stmt.Kind.String()), stmt.Name, strings.ToLower(old.Kind.String())).
			WithHint("a SOURCE %s is read-only; DROP it and CREATE it again", strings.ToLower(old.Kind.String()))
	}
	w, err := checkWith(stmt.With, createSourceProps, stmt.At)
	if err != nil {
		return nil, err
	}
	if err := w.checkDelimiters(); err != nil {
		return nil, err
	}
	cols, err := bindColumnDefs(cat, stmt)
	if err != nil {
		return nil, err
	}
	src := &Source{
		Name:     stmt.Name,
		Kind:     stmt.Kind,
		Columns:  cols,
		IsSource: stmt.Source,
		SQL:      stmt.Text(),
	}
	topic, at, ok := w.str(withKafkaTopic)
	if !ok {
		return nil, sql.Errorf(sql.CodeInvalidParameter, stmt.At,
			`Missing required property "KAFKA_TOPIC" which has no default value`).
			WithHint("add WITH (KAFKA_TOPIC='<topic>', ...) naming the topic the %s reads", strings.ToLower(stmt.Kind.String()))
	}
	if strings.TrimSpace(topic) == "" {
		return nil, sql.Errorf(sql.CodeInvalidParameter, at, "KAFKA_TOPIC must not be empty")
	}
	src.Topic = topic
	if err := bindTopicConfig(w, src); err != nil {
		return nil, err
	}
	kf, vf, kAt, vAt, err := w.formats()
	if err != nil {
		return nil, err
	}
	if kf == "" {
		kf = props.defaultKeyFormat()
	}
	if vf == "" {
		d, ok := props.defaultValueFormat()
		if !ok {
			return nil, sql.Errorf(sql.CodeInvalidParameter, stmt.At,
				"Statement is missing the 'VALUE_FORMAT' property from the WITH clause").
				WithHint("either provide one or set a default via the 'ksql.persistence.default.format.value' config")
		}
		vf = d
	}
	if err := bindFormats(w, src, kf, vf, kAt, vAt, props, stmt.At); err != nil {
		return nil, err
	}
	if err := bindWindow(w, src); err != nil {
		return nil, err
	}
	if err := bindTimestamp(w, src); err != nil {
		return nil, err
	}
	return src, nil
}

// bindColumnDefs checks the column list of CREATE STREAM/TABLE and orders
// it the way DESCRIBE shows it: key columns, value columns, header columns.
func bindColumnDefs(cat Catalog, stmt *sql.CreateSource) ([]Column, error) {
	if len(stmt.Columns) == 0 {
		return nil, sql.Errorf(sql.CodeSyntax, stmt.NameAt, "The statement does not define any columns").
			WithHint("declare the columns after the name, e.g. CREATE %s %s (ID INT %s, NAME STRING) WITH (...)",
				stmt.Kind, stmt.Name, keyWord(stmt.Kind))
	}
	seen := map[string]bool{}
	var keys, values, headers []Column
	hasHeaders := false
	for _, d := range stmt.Columns {
		if isReservedName(d.Name) {
			return nil, sql.Errorf(sql.CodeDuplicateColumn, d.At,
				"'%s' is a reserved column name. You cannot use it as a name for a column", d.Name).
				WithHint("rename the column; ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART and WINDOWEND are pseudo columns")
		}
		if seen[d.Name] {
			return nil, sql.Errorf(sql.CodeDuplicateColumn, d.At, "Duplicate column names: %s", d.Name).
				WithHint("every column of a %s needs a distinct name", strings.ToLower(stmt.Kind.String()))
		}
		seen[d.Name] = true
		t, err := resolveType(cat, d.Type, d.At)
		if err != nil {
			return nil, err
		}
		c := Column{Name: d.Name, Type: t, Role: d.Constraint, HeaderKey: d.HeaderKey}
		switch d.Constraint {
		case sql.ColKey:
			if stmt.Kind == sql.KindTable {
				return nil, sql.Errorf(sql.CodeSyntax, d.At,
					"Column `%s` is a 'KEY' column: please use 'PRIMARY KEY' for tables", d.Name).
					WithHint("tables have PRIMARY KEYs, which are unique and NON NULL; streams have KEYs, which have no uniqueness or NON NULL constraints")
			}
			keys = append(keys, c)
		case sql.ColPrimaryKey:
			if stmt.Kind == sql.KindStream {
				return nil, sql.Errorf(sql.CodeSyntax, d.At,
					"Column `%s` is a 'PRIMARY KEY' column: please use 'KEY' for streams", d.Name).
					WithHint("tables have PRIMARY KEYs, which are unique and NON NULL; streams have KEYs, which have no uniqueness or NON NULL constraints")
			}
			keys = append(keys, c)
		case sql.ColHeaders:
			if hasHeaders {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, d.At, "Schema already contains a HEADERS column").
					WithHint("declare at most one HEADERS column; use HEADER('<key>') columns for single headers")
			}
			hasHeaders = true
			if !t.Equal(headersType) {
				return nil, sql.Errorf(sql.CodeDatatypeMismatch, d.At,
					"Invalid type for HEADERS column: expected %s, got %s", headersType, t)
			}
			headers = append(headers, c)
		case sql.ColHeader:
			if t.Kind != sql.TypeBytes {
				return nil, sql.Errorf(sql.CodeDatatypeMismatch, d.At,
					"Invalid type for HEADER('%s') column: expected BYTES, got %s", d.HeaderKey, t)
			}
			headers = append(headers, c)
		default:
			values = append(values, c)
		}
		if d.Constraint == sql.ColKey || d.Constraint == sql.ColPrimaryKey {
			if err := checkNoMapInKey(c, d.At); err != nil {
				return nil, err
			}
		}
	}
	if stmt.Kind == sql.KindTable && len(keys) == 0 {
		return nil, sql.Errorf(sql.CodeSyntax, stmt.NameAt, "Tables require a PRIMARY KEY. Please define the PRIMARY KEY").
			WithHint("mark the key column, e.g. ID INT PRIMARY KEY")
	}
	out := append(keys, values...)
	return append(out, headers...), nil
}

func keyWord(k sql.SourceKind) string {
	if k == sql.KindTable {
		return "PRIMARY KEY"
	}
	return "KEY"
}

func containsMap(t *sql.Type) bool {
	switch t.Kind {
	case sql.TypeMap:
		return true
	case sql.TypeArray:
		return containsMap(t.Elem)
	case sql.TypeStruct:
		for _, f := range t.Fields {
			if containsMap(f.Type) {
				return true
			}
		}
	}
	return false
}

func checkNoMapInKey(c Column, at sql.Pos) error {
	if !containsMap(c.Type) {
		return nil
	}
	return sql.Errorf(sql.CodeFeatureNotSupported, at,
		"Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `%s`. Column type: %s. See https://github.com/confluentinc/ksql/issues/6621 for more",
		c.Name, c.Type).WithHint("use a key without MAP types, e.g. a STRING built with TO_JSON_STRING or a STRUCT")
}

// bindTopicConfig reads PARTITIONS and REPLICAS.
func bindTopicConfig(w withProps, src *Source) error {
	if n, ok, err := w.integer(withPartitions, 32); err != nil {
		return err
	} else if ok {
		if n <= 0 {
			return sql.Errorf(sql.CodeInvalidParameter, w.get(withPartitions).At, "PARTITIONS must be positive, got %d", n)
		}
		src.Partitions = int32(n)
	}
	if n, ok, err := w.integer(withReplicas, 16); err != nil {
		return err
	} else if ok {
		if n <= 0 && n != -1 {
			return sql.Errorf(sql.CodeInvalidParameter, w.get(withReplicas).At, "REPLICAS must be positive, got %d", n).
				WithHint("omit REPLICAS to use the broker's default")
		}
		src.Replicas = int16(n)
	}
	if p := w.get(withRetentionMs); p != nil {
		return sql.Errorf(sql.CodeFeatureNotSupported, p.At, "RETENTION_MS is not supported yet").
			WithHint("set the topic's retention.ms with Kafka's tools")
	}
	return nil
}

// supportedFormats are the formats exec/codec implements.
var supportedFormats = map[string]bool{codec.JSON: true, codec.Delimited: true, codec.Kafka: true, codec.None: true}

// schemaRegistryFormats are ksqlDB formats sluice knows but does not
// implement yet.
var schemaRegistryFormats = map[string]bool{"AVRO": true, "PROTOBUF": true, "PROTOBUF_NOSR": true, "JSON_SR": true}

func checkFormatName(name string, at sql.Pos, side string) error {
	if supportedFormats[name] {
		return nil
	}
	if schemaRegistryFormats[name] {
		return sql.Errorf(sql.CodeFeatureNotSupported, at, "the %s format is not supported yet", name).
			WithHint("use JSON, DELIMITED or KAFKA")
	}
	return sql.Errorf(sql.CodeInvalidParameter, at, "Unknown %s format: %s", side, name).
		WithHint("valid formats are DELIMITED, JSON, KAFKA and NONE (keys only)")
}

// bindFormats validates the key and value formats against the columns and
// the format-specific properties, and stores them in src.
func bindFormats(w withProps, src *Source, kf, vf string, kAt, vAt sql.Pos, props Props, stmtAt sql.Pos) error {
	if !kAt.IsValid() {
		kAt = stmtAt
	}
	if !vAt.IsValid() {
		vAt = stmtAt
	}
	if err := checkFormatName(kf, kAt, "key"); err != nil {
		return err
	}
	if err := checkFormatName(vf, vAt, "value"); err != nil {
		return err
	}
	if vf == codec.None {
		return sql.Errorf(sql.CodeInvalidParameter, vAt, "The 'NONE' format can only be used as a key format").
			WithHint("use JSON, DELIMITED or KAFKA for VALUE_FORMAT")
	}
	keyCols, valCols := src.KeyColumns(), src.ValueColumns()
	src.KeyFormat = Format{Name: kf}
	src.ValueFormat = Format{Name: vf}
	for _, side := range []struct {
		key     string
		f       *Format
		formatP sql.Pos
	}{{withKeyDelimiter, &src.KeyFormat, kAt}, {withValueDelimiter, &src.ValueFormat, vAt}} {
		d, ok, err := w.delimiter(side.key)
		if err != nil {
			return err
		}
		if ok && side.f.Name != codec.Delimited {
			return sql.Errorf(sql.CodeInvalidParameter, w.get(side.key).At,
				"%s does not support the following configs: [delimiter]", side.f.Name).
				WithHint("%s applies to the DELIMITED format only", side.key)
		}
		if side.f.Name == codec.Delimited {
			if !ok {
				d = ','
			}
			side.f.Delimiter = d
		}
	}
	for _, p := range []string{withKeySchemaID, withValueSchemaID} {
		if q := w.get(p); q != nil {
			return sql.Errorf(sql.CodeFeatureNotSupported, q.At,
				"%s requires a Schema Registry format, which is not supported yet", p)
		}
	}
	// WRAP_SINGLE_VALUE.
	wrap, hasWrap, err := w.boolean(withWrapSingle)
	if err != nil {
		return err
	}
	if hasWrap {
		at := w.get(withWrapSingle).At
		if len(valCols) != 1 {
			return sql.Errorf(sql.CodeInvalidParameter, at, "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas").
				WithHint("remove WRAP_SINGLE_VALUE: values with several columns are always wrapped")
		}
		if wrap && vf != codec.JSON {
			return sql.Errorf(sql.CodeInvalidParameter, at, "Format '%s' does not support 'WRAP_SINGLE_VALUE' set to 'true'", vf).
				WithHint("the %s format always writes a single value unwrapped", vf)
		}
		b := wrap
		src.ValueFormat.WrapSingle = &b
	} else if d, ok := props.wrapSingleValues(); ok && len(valCols) == 1 && vf == codec.JSON {
		// The session default applies only where the format can do both,
		// as in ksqlDB; it is frozen into the source so that later
		// sessions read the topic the same way.
		b := d
		src.ValueFormat.WrapSingle = &b
	}
	return checkFormatSchema(src.Name, src.KeyFormat.Name, keyCols, src.ValueFormat.Name, valCols, kAt, vAt)
}

// checkFormatSchema checks that the key and value formats can serialize the
// columns given.
func checkFormatSchema(name, kf string, keyCols []Column, vf string, valCols []Column, kAt, vAt sql.Pos) error {
	if kf == codec.None && len(keyCols) > 0 {
		return sql.Errorf(sql.CodeInvalidParameter, kAt, "The 'NONE' format can only be used when no columns are defined").
			WithHint("%s has key column %s; use KEY_FORMAT='KAFKA' or another key format", name, keyCols[0].Name)
	}
	if err := checkSide("Key", kf, keyCols, kAt); err != nil {
		return err
	}
	return checkSide("Value", vf, valCols, vAt)
}

func checkSide(side, f string, cols []Column, at sql.Pos) error {
	var err *sql.Error
	if f == codec.Kafka && len(cols) > 1 {
		err = sql.Errorf(sql.CodeFeatureNotSupported, at,
			"The 'KAFKA' format only supports a single field. Got: %s", columnList(cols)).
			WithHint("use a format that holds several columns, such as JSON or DELIMITED")
	}
	for _, c := range cols {
		if err != nil {
			break
		}
		if e := checkTypeInFormat(f, c, c.Type, at); e != nil {
			var ok bool
			if err, ok = e.(*sql.Error); !ok {
				return e
			}
		}
	}
	if err == nil {
		return nil
	}
	if f == codec.Kafka || f == codec.Delimited {
		// ksqlDB reports the schema the format rejected, then the reason.
		// Neither format has serde features (they never wrap a column).
		err.Msg = fmt.Sprintf("%s format does not support schema.\nformat: %s\nschema: Persistence{columns=%s, features=[]}\nreason: %s",
			side, f, columnList(cols), err.Msg)
	}
	return err
}

func checkTypeInFormat(f string, c Column, t *sql.Type, at sql.Pos) error {
	unsupported := func() error {
		return sql.Errorf(sql.CodeFeatureNotSupported, at,
			"The '%s' format does not support type '%s', column: `%s`", f, kindName(t), c.Name).
			WithHint("use the JSON format, or a type the %s format supports", f)
	}
	switch f {
	case codec.Kafka:
		switch t.Kind {
		case sql.TypeInt, sql.TypeBigint, sql.TypeDouble, sql.TypeString, sql.TypeBytes:
			return nil
		}
		return unsupported()
	case codec.Delimited:
		switch t.Kind {
		case sql.TypeArray, sql.TypeMap, sql.TypeStruct:
			return unsupported()
		}
	case codec.JSON:
		switch t.Kind {
		case sql.TypeMap:
			if t.Key.Kind != sql.TypeString {
				return sql.Errorf(sql.CodeFeatureNotSupported, at, "JSON only supports MAP types with STRING keys").
					WithHint("column `%s` has type %s", c.Name, t)
			}
			return checkTypeInFormat(f, c, t.Value, at)
		case sql.TypeArray:
			return checkTypeInFormat(f, c, t.Elem, at)
		case sql.TypeStruct:
			for _, fl := range t.Fields {
				if err := checkTypeInFormat(f, c, fl.Type, at); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// kindName is the type family name ksqlDB uses in format errors.
func kindName(t *sql.Type) string {
	switch t.Kind {
	case sql.TypeArray:
		return "ARRAY"
	case sql.TypeMap:
		return "MAP"
	case sql.TypeStruct:
		return "STRUCT"
	case sql.TypeDecimal:
		return "DECIMAL"
	}
	return t.String()
}

func columnList(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = columnString(c)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// columnString renders a column as ksqlDB prints schemas: `ID` INTEGER KEY.
func columnString(c Column) string {
	s := fmt.Sprintf("`%s` %s", c.Name, c.Type)
	switch c.Role {
	case sql.ColKey:
		s += " KEY"
	case sql.ColPrimaryKey:
		s += " PRIMARY KEY"
	case sql.ColHeaders:
		s += " HEADERS"
	case sql.ColHeader:
		s += " HEADER('" + c.HeaderKey + "')"
	}
	return s
}

// bindWindow reads WINDOW_TYPE and WINDOW_SIZE.
func bindWindow(w withProps, src *Source) error {
	wt, at, ok := w.str(withWindowType)
	size, sizeAt, hasSize := w.str(withWindowSize)
	if !ok {
		if hasSize {
			return sql.Errorf(sql.CodeInvalidParameter, sizeAt, "'WINDOW_SIZE' is only valid together with 'WINDOW_TYPE'").
				WithHint("add WINDOW_TYPE='TUMBLING' or 'HOPPING', or remove WINDOW_SIZE")
		}
		return nil
	}
	wt = strings.ToUpper(strings.TrimSpace(wt))
	switch wt {
	case "SESSION":
		if hasSize {
			return sql.Errorf(sql.CodeInvalidParameter, sizeAt, "'WINDOW_SIZE' should not be provided for SESSION windows").
				WithHint("remove WINDOW_SIZE: session windows carry their bounds in the key")
		}
		src.Window = &Window{Type: wt}
	case "TUMBLING", "HOPPING":
		if !hasSize {
			return sql.Errorf(sql.CodeInvalidParameter, at,
				"%s windows require 'WINDOW_SIZE' to be provided in the WITH clause", wt).
				WithHint("For example: 'WINDOW_SIZE'='10 SECONDS'")
		}
		ms, ok := parseDuration(size)
		if !ok || ms <= 0 {
			return sql.Errorf(sql.CodeInvalidParameter, sizeAt, "Configuration WINDOW_SIZE is invalid: %s", durationProblem(size)).
				WithHint("WINDOW_SIZE takes a number and a unit, e.g. '10 SECONDS'")
		}
		src.Window = &Window{Type: wt, Size: ms}
	default:
		return sql.Errorf(sql.CodeInvalidParameter, at, "Invalid value for WINDOW_TYPE: %s", wt).
			WithHint("valid window types are HOPPING, SESSION and TUMBLING")
	}
	return nil
}

// bindTimestamp reads TIMESTAMP and TIMESTAMP_FORMAT against src's columns.
func bindTimestamp(w withProps, src *Source) error {
	name, at, ok := w.str(withTimestamp)
	format, fAt, hasFormat := w.str(withTimestampFormat)
	if !ok {
		if hasFormat {
			return sql.Errorf(sql.CodeInvalidParameter, fAt, "'TIMESTAMP_FORMAT' requires 'TIMESTAMP' to name a STRING column").
				WithHint("add TIMESTAMP='<column>'")
		}
		return nil
	}
	col := foldIdentText(name)
	var c *Column
	for i := range src.Columns {
		if src.Columns[i].Name == col {
			c = &src.Columns[i]
			break
		}
	}
	if c == nil {
		return sql.Errorf(sql.CodeUndefinedColumn, at,
			"The TIMESTAMP column set in the WITH clause does not exist in the schema: '%s'", col).
			WithHint("name one of the columns: %s", strings.Join(columnNames(src.Columns), ", "))
	}
	switch c.Type.Kind {
	case sql.TypeBigint, sql.TypeTimestamp:
		if hasFormat {
			return sql.Errorf(sql.CodeInvalidParameter, fAt,
				"'TIMESTAMP_FORMAT' set in the WITH clause can only be used when the timestamp column is of type STRING").
				WithHint("remove TIMESTAMP_FORMAT: %s is %s", col, c.Type)
		}
	case sql.TypeString:
		if !hasFormat {
			return sql.Errorf(sql.CodeInvalidParameter, at,
				"A String timestamp field has been specified without also specifying the timestamp_format").
				WithHint("add TIMESTAMP_FORMAT='yyyy-MM-dd HH:mm:ss' (a java.time pattern)")
		}
		if strings.TrimSpace(format) == "" {
			return sql.Errorf(sql.CodeInvalidParameter, fAt, "TIMESTAMP_FORMAT must not be empty")
		}
		src.TimestampFormat = format
	default:
		return sql.Errorf(sql.CodeDatatypeMismatch, at,
			"Timestamp column, %s, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified", col).
			WithHint("%s is %s", col, c.Type)
	}
	src.TimestampColumn = col
	return nil
}

func columnNames(cs []Column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

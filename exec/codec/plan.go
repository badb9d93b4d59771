package codec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// kind is the SQL type family of an Arrow type, as codecs see it. Codecs
// switch on kind once per value instead of on arrow.DataType, which would
// need an interface call and a type switch.
type kind uint8

const (
	kBool kind = iota + 1
	kInt32
	kInt64
	kFloat64
	kDecimal
	kString
	kBinary
	kDate
	kTime
	kTimestamp
	kList
	kMap
	kStruct
)

// node is one type in the tree of a Spec's fields, prepared once by
// NewDecoder/NewEncoder. Nodes carry per-type scratch for the JSON decoder
// (spans, entries): a SQL type tree is finite and never recursive, so a node
// is never decoded re-entrantly and its scratch can be reused without a
// stack.
type node struct {
	kind  kind
	typ   arrow.DataType
	name  string // column or struct field name; empty for elements
	sql   string // ksqlDB's spelling of the type, for messages
	prec  int32  // DECIMAL
	scale int32  // DECIMAL
	elem  *node  // ARRAY element, MAP value
	key   *node  // MAP key
	// STRUCT fields, or the columns of a wrapped row.
	fields []*node
	index  map[string]int // field name -> position

	// JSON decoder scratch (see jsondec.go).
	spans []int   // byte offset of each field's value, -1 when absent
	exact []bool  // whether spans[i] came from an exact name match
	toks  []token // the scanned value at spans[i], when a string or number
	ents  []mapEntry
	dedup map[string]int

	// JSON encoder: `"NAME":` with the name escaped.
	jsonKey []byte
}

// buildNode prepares the node of one Arrow type.
func buildNode(name string, t arrow.DataType) (*node, error) {
	n := &node{typ: t, name: name}
	switch t := t.(type) {
	case *arrow.BooleanType:
		n.kind, n.sql = kBool, "BOOLEAN"
	case *arrow.Int32Type:
		n.kind, n.sql = kInt32, "INTEGER"
	case *arrow.Int64Type:
		n.kind, n.sql = kInt64, "BIGINT"
	case *arrow.Float64Type:
		n.kind, n.sql = kFloat64, "DOUBLE"
	case *arrow.Decimal128Type:
		if t.Precision < 1 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return nil, fmt.Errorf("DECIMAL(%d, %d) is not a valid decimal type", t.Precision, t.Scale)
		}
		n.kind, n.prec, n.scale = kDecimal, t.Precision, t.Scale
		n.sql = "DECIMAL(" + strconv.Itoa(int(t.Precision)) + ", " + strconv.Itoa(int(t.Scale)) + ")"
	case *arrow.StringType:
		n.kind, n.sql = kString, "STRING"
	case *arrow.BinaryType:
		n.kind, n.sql = kBinary, "BYTES"
	case *arrow.Date32Type:
		n.kind, n.sql = kDate, "DATE"
	case *arrow.Time32Type:
		if t.Unit != arrow.Millisecond {
			return nil, fmt.Errorf("TIME must have millisecond unit, got %s", t)
		}
		n.kind, n.sql = kTime, "TIME"
	case *arrow.TimestampType:
		if t.Unit != arrow.Millisecond {
			return nil, fmt.Errorf("TIMESTAMP must have millisecond unit, got %s", t)
		}
		n.kind, n.sql = kTimestamp, "TIMESTAMP"
	case *arrow.MapType: // before ListType: MapType embeds it
		k, err := buildNode("", t.KeyType())
		if err != nil {
			return nil, err
		}
		v, err := buildNode("", t.ItemType())
		if err != nil {
			return nil, err
		}
		n.kind, n.key, n.elem = kMap, k, v
		n.sql = "MAP<" + k.sql + ", " + v.sql + ">"
	case *arrow.ListType:
		e, err := buildNode("", t.Elem())
		if err != nil {
			return nil, err
		}
		n.kind, n.elem = kList, e
		n.sql = "ARRAY<" + e.sql + ">"
	case *arrow.StructType:
		n.kind = kStruct
		if err := n.setFields(t.Fields()); err != nil {
			return nil, err
		}
		parts := make([]string, len(n.fields))
		for i, f := range n.fields {
			parts[i] = quoteIdent(f.name) + " " + f.sql
		}
		n.sql = "STRUCT<" + strings.Join(parts, ", ") + ">"
	default:
		return nil, fmt.Errorf("Arrow type %s has no SQL counterpart", t)
	}
	return n, nil
}

// setFields fills the field list and name index of a STRUCT or a row.
func (n *node) setFields(fs []arrow.Field) error {
	n.fields = make([]*node, len(fs))
	n.index = make(map[string]int, len(fs))
	for i, f := range fs {
		c, err := buildNode(f.Name, f.Type)
		if err != nil {
			return fmt.Errorf("field %s: %w", quoteIdent(f.Name), err)
		}
		if _, dup := n.index[f.Name]; dup {
			return fmt.Errorf("duplicate field name %s", quoteIdent(f.Name))
		}
		n.fields[i] = c
		n.index[f.Name] = i
	}
	n.spans = make([]int, len(fs))
	n.exact = make([]bool, len(fs))
	n.toks = make([]token, len(fs))
	return nil
}

// nested reports whether the node is ARRAY, MAP or STRUCT.
func (n *node) nested() bool { return n.kind == kList || n.kind == kMap || n.kind == kStruct }

// baseName is the type name ksqlDB uses in "does not support type" messages.
func (n *node) baseName() string {
	switch n.kind {
	case kList:
		return "ARRAY"
	case kMap:
		return "MAP"
	case kStruct:
		return "STRUCT"
	case kDecimal:
		return "DECIMAL"
	}
	return n.sql
}

// walk calls f on n and every node below it.
func (n *node) walk(f func(*node) bool) bool {
	if !f(n) {
		return false
	}
	if n.key != nil && !n.key.walk(f) {
		return false
	}
	if n.elem != nil && !n.elem.walk(f) {
		return false
	}
	for _, c := range n.fields {
		if !c.walk(f) {
			return false
		}
	}
	return true
}

// plan is a validated Spec with its type tree.
type plan struct {
	spec Spec
	row  *node // kind kStruct; fields are the spec's fields
}

// windowCols is the number of window columns that follow the key fields.
func (s *Spec) windowCols() int {
	if s.Window == NotWindowed {
		return 0
	}
	return 2
}

// newPlan validates s for its format and builds the type tree. forDecode
// adds the checks only reading needs (the size of a time window).
func newPlan(s Spec, forDecode bool) (*plan, error) {
	f := s.Format
	row := &node{kind: kStruct}
	if err := row.setFields(s.Fields); err != nil {
		return nil, &SpecError{Format: f, Msg: err.Error(), Hint: "give every column a distinct name and a type from expr.Types"}
	}
	p := &plan{spec: s, row: row}
	switch s.Window {
	case NotWindowed, SessionWindow:
	case TimeWindow:
		if forDecode && s.WindowSize <= 0 {
			return nil, &SpecError{Format: f, Msg: fmt.Sprintf("time-windowed key needs a positive window size, got %d ms", s.WindowSize),
				Hint: "set WINDOW_SIZE for a TUMBLING or HOPPING windowed source"}
		}
	default:
		return nil, &SpecError{Format: f, Msg: fmt.Sprintf("unknown window type %d", s.Window)}
	}
	switch f {
	case JSON:
		for _, c := range row.fields {
			ok := c.walk(func(n *node) bool { return n.kind != kMap || n.key.kind == kString })
			if !ok {
				return nil, &SpecError{Format: f, Column: c.name, Msg: "JSON only supports MAP types with STRING keys",
					Hint: "declare the map as MAP<STRING, ...> and convert the keys with CAST"}
			}
		}
		if s.Unwrapped && len(row.fields) != 1 {
			return nil, &SpecError{Format: f, Msg: fmt.Sprintf("an unwrapped JSON key or value needs exactly one column, got %d", len(row.fields)),
				Hint: "only set WRAP_SINGLE_VALUE=false on single-column values"}
		}
	case Delimited:
		for _, c := range row.fields {
			if c.nested() {
				return nil, &SpecError{Format: f, Column: c.name,
					Msg:  fmt.Sprintf("The 'DELIMITED' format does not support type '%s', column: %s", c.baseName(), quoteIdent(c.name)),
					Hint: "use FORMAT='JSON' for ARRAY, MAP and STRUCT columns"}
			}
		}
		switch s.Delimiter {
		case '"', '\r', '\n':
			return nil, &SpecError{Format: f, Msg: fmt.Sprintf("Invalid delimiter value: %q", s.Delimiter),
				Hint: "choose a single character other than a quote or a line break, or TAB or SPACE"}
		}
	case Kafka:
		if len(row.fields) > 1 {
			names := make([]string, len(row.fields))
			for i, c := range row.fields {
				names[i] = quoteIdent(c.name) + " " + c.sql
			}
			return nil, &SpecError{Format: f, Msg: "The 'KAFKA' format only supports a single field. Got: [" + strings.Join(names, ", ") + "]",
				Hint: "use FORMAT='JSON' or 'DELIMITED' for several columns"}
		}
		for _, c := range row.fields {
			switch c.kind {
			case kInt32, kInt64, kFloat64, kString, kBinary:
			default:
				return nil, &SpecError{Format: f, Column: c.name,
					Msg:  fmt.Sprintf("The 'KAFKA' format does not support type '%s'", c.baseName()),
					Hint: "KAFKA carries INT, BIGINT, DOUBLE, STRING and BYTES; use JSON for other types"}
			}
		}
	case None:
		if len(row.fields) != 0 {
			return nil, &SpecError{Format: f, Msg: "The 'NONE' format can only be used when no columns are defined.",
				Hint: "choose KAFKA, JSON or DELIMITED for a side that has columns"}
		}
		if s.Window != NotWindowed {
			return nil, &SpecError{Format: f, Msg: "The 'NONE' format cannot carry a windowed key",
				Hint: "windowed results have key columns; choose a key format for them"}
		}
	default:
		return nil, &SpecError{Format: f, Msg: fmt.Sprintf("unknown format %q", f),
			Hint: "use one of JSON, DELIMITED, KAFKA, NONE"}
	}
	return p, nil
}

// NewDecoder returns a Decoder for s. It fails with a *SpecError
// (errors.Is(err, ErrUnsupported)) when the format cannot carry the fields.
func NewDecoder(s Spec) (Decoder, error) {
	p, err := newPlan(s, true)
	if err != nil {
		return nil, err
	}
	var d Decoder
	switch s.Format {
	case JSON:
		d = newJSONDecoder(p)
	case Delimited:
		d = newDelimitedDecoder(p)
	case Kafka:
		d = newKafkaDecoder(p)
	case None:
		d = noneCodec{}
	}
	if s.Window != NotWindowed {
		d = &windowDecoder{inner: d, spec: s, nf: len(s.Fields)}
	}
	return d, nil
}

// NewEncoder returns an Encoder for s. It fails with a *SpecError
// (errors.Is(err, ErrUnsupported)) when the format cannot carry the fields.
func NewEncoder(s Spec) (Encoder, error) {
	p, err := newPlan(s, false)
	if err != nil {
		return nil, err
	}
	var e Encoder
	switch s.Format {
	case JSON:
		e = newJSONEncoder(p)
	case Delimited:
		e = newDelimitedEncoder(p)
	case Kafka:
		e = newKafkaEncoder(p)
	case None:
		e = noneCodec{}
	}
	if s.Window != NotWindowed {
		e = &windowEncoder{inner: e, spec: s, nf: len(s.Fields)}
	}
	return e, nil
}

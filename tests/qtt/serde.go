package qtt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

// This file is the runner's own serde for test records (SPEC 3.5). It is
// written from the specification, independently of the engine's codecs, so
// that a codec bug shows up as a failed case rather than cancelling out.

// owningSource finds the source whose topic is topic. When several sources
// share the topic, a sink (written by a persistent query) is preferred for
// reading outputs and a plain source for writing inputs; ties go to the
// first by name.
func owningSource(sources []*sluice.Source, topic string, forOutput bool) *sluice.Source {
	var first, preferred *sluice.Source
	for _, s := range sources {
		if s.Topic != topic {
			continue
		}
		if first == nil {
			first = s
		}
		if preferred == nil && (s.Query != "") == forOutput {
			preferred = s
		}
	}
	if preferred != nil {
		return preferred
	}
	return first
}

func formatName(f planner.Format) string { return strings.ToUpper(f.Name) }

// keyColumns and valueColumns of a source.
func keyColumns(s *sluice.Source) []planner.Column   { return s.KeyColumns() }
func valueColumns(s *sluice.Source) []planner.Column { return s.ValueColumns() }

// encodeKey serializes an input record's key for src, including the window
// suffix when the record has a window.
func encodeKey(src *sluice.Source, r *Record) ([]byte, error) {
	inner, err := encodeSide(formatName(src.KeyFormat), keyColumns(src), r.Key, "key")
	if err != nil {
		return nil, err
	}
	if r.Window == nil {
		return inner, nil
	}
	out := append([]byte(nil), inner...)
	if r.Window.IsSession() {
		out = binary.BigEndian.AppendUint64(out, uint64(r.Window.End))
	}
	return binary.BigEndian.AppendUint64(out, uint64(r.Window.Start)), nil
}

// encodeValue serializes an input record's value for src; a null value is a
// tombstone (nil bytes).
func encodeValue(src *sluice.Source, r *Record) ([]byte, error) {
	return encodeSide(formatName(src.ValueFormat), valueColumns(src), r.Value, "value")
}

// encodeSide serializes one side of a record in format, given the columns
// serialized on that side.
func encodeSide(format string, cols []planner.Column, raw json.RawMessage, side string) ([]byte, error) {
	if isJSONNull(raw) {
		return nil, nil
	}
	switch format {
	case "JSON":
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, fmt.Errorf("%s: %w", side, err)
		}
		return b.Bytes(), nil
	case "DELIMITED":
		return textOf(raw)
	case "KAFKA":
		switch len(cols) {
		case 0:
			return textOf(raw)
		case 1:
			return encodeKafka(cols[0].Type, raw)
		}
		return nil, fmt.Errorf("%s: format KAFKA cannot hold %d columns", side, len(cols))
	case "NONE":
		return textOf(raw)
	}
	return nil, fmt.Errorf("%s: the runner cannot serialize format %q", side, format)
}

func isJSONNull(raw json.RawMessage) bool {
	return raw == nil || string(bytes.TrimSpace(raw)) == "null"
}

// textOf returns a JSON string's content, or the literal text of any other
// JSON value.
func textOf(raw json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []byte(s), nil
	}
	return bytes.TrimSpace(raw), nil
}

// encodeKafka serializes a single value in the KAFKA format by its SQL type.
func encodeKafka(t *sql.Type, raw json.RawMessage) ([]byte, error) {
	lit := strings.TrimSpace(string(raw))
	switch t.Kind {
	case sql.TypeInt:
		v, err := strconv.ParseInt(lit, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("KAFKA INT: bad value %s", lit)
		}
		return binary.BigEndian.AppendUint32(nil, uint32(int32(v))), nil
	case sql.TypeBigint:
		v, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("KAFKA BIGINT: bad value %s", lit)
		}
		return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
	case sql.TypeDouble:
		v, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return nil, fmt.Errorf("KAFKA DOUBLE: bad value %s", lit)
		}
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(v)), nil
	case sql.TypeString, sql.TypeBytes:
		return textOf(raw)
	}
	return nil, fmt.Errorf("format KAFKA does not support type %s", t)
}

// decodeKey deserializes an output key for src. For a windowed source it
// strips the window and returns it.
func decodeKey(src *sluice.Source, b []byte, exact bool) (any, *Window, error) {
	var win *Window
	if src.Window != nil && b != nil {
		session := strings.EqualFold(src.Window.Type, "SESSION")
		n := 8
		if session {
			n = 16
		}
		if len(b) < n {
			return nil, nil, fmt.Errorf("windowed key of %d bytes is too short", len(b))
		}
		start := int64(binary.BigEndian.Uint64(b[len(b)-8:]))
		if session {
			win = &Window{Type: "session", Start: start, End: int64(binary.BigEndian.Uint64(b[len(b)-16:]))}
		} else {
			win = &Window{Type: "time", Start: start, End: start + src.Window.Size}
		}
		b = b[:len(b)-n]
		if len(b) == 0 {
			b = nil
		}
	}
	v, err := decodeSide(formatName(src.KeyFormat), keyColumns(src), b, exact)
	return v, win, err
}

// decodeValue deserializes an output value for src; nil bytes are null.
func decodeValue(src *sluice.Source, b []byte, exact bool) (any, error) {
	return decodeSide(formatName(src.ValueFormat), valueColumns(src), b, exact)
}

func decodeSide(format string, cols []planner.Column, b []byte, exact bool) (any, error) {
	if b == nil {
		return nil, nil
	}
	switch format {
	case "JSON":
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, nil
		}
		v, err := parseActualJSON(b, exact)
		if err != nil {
			return nil, fmt.Errorf("JSON %q: %w", b, err)
		}
		return v, nil
	case "DELIMITED", "NONE":
		return string(b), nil
	case "KAFKA":
		switch len(cols) {
		case 0:
			return string(b), nil
		case 1:
			return decodeKafka(cols[0].Type, b)
		}
		return nil, fmt.Errorf("format KAFKA cannot hold %d columns", len(cols))
	}
	return nil, fmt.Errorf("the runner cannot deserialize format %q", format)
}

func decodeKafka(t *sql.Type, b []byte) (any, error) {
	switch t.Kind {
	case sql.TypeInt:
		if len(b) != 4 {
			return nil, fmt.Errorf("KAFKA INT needs 4 bytes, got %d", len(b))
		}
		return int32(binary.BigEndian.Uint32(b)), nil
	case sql.TypeBigint:
		if len(b) != 8 {
			return nil, fmt.Errorf("KAFKA BIGINT needs 8 bytes, got %d", len(b))
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case sql.TypeDouble:
		if len(b) != 8 {
			return nil, fmt.Errorf("KAFKA DOUBLE needs 8 bytes, got %d", len(b))
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case sql.TypeString:
		return string(b), nil
	case sql.TypeBytes:
		return append([]byte(nil), b...), nil
	}
	return nil, fmt.Errorf("format KAFKA does not support type %s", t)
}

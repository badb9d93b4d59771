package expr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// JSON functions over STRING-typed JSON. Documents are parsed into an
// order-preserving tree (jsonObj) so that output keeps document order and
// numbers keep their text, as Jackson does.

type jsonObj struct {
	keys []string
	vals []any
}

func (o *jsonObj) get(k string) (any, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

func (o *jsonObj) set(k string, v any) {
	for i, key := range o.keys {
		if key == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// parseJSON parses one JSON value (and nothing after it).
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := parseJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func parseJSONValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jsonObj{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %w", err)
				}
				v, err := parseJSONValue(dec)
				if err != nil {
					return nil, err
				}
				o.set(kt.(string), v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return o, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := parseJSONValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return arr, nil
		}
		return nil, fmt.Errorf("invalid JSON: unexpected %v", t)
	}
	return tok, nil // string, json.Number, bool, nil
}

// writeJSON renders a parsed tree compactly.
func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(string(x))
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case *jsonObj:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, x.vals[i])
		}
		b.WriteByte('}')
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	// encoding/json escapes <, >, & for HTML; Jackson does not.
	enc = bytes.ReplaceAll(enc, []byte(`\u003c`), []byte("<"))
	enc = bytes.ReplaceAll(enc, []byte(`\u003e`), []byte(">"))
	enc = bytes.ReplaceAll(enc, []byte(`\u0026`), []byte("&"))
	b.Write(enc)
}

func jsonText(v any) string {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.String()
}

// jsonPath parses $.a.b[0]['c'] into steps (string keys or int indices).
func jsonPath(p string) ([]any, error) {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("Invalid JSON path: %s", p)
	}
	var steps []any
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("Invalid JSON path: %s", p)
			}
			steps = append(steps, p[i+1:j])
			i = j
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("Invalid JSON path: %s", p)
			}
			inner := strings.TrimSpace(p[i+1 : i+end])
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				steps = append(steps, inner[1:len(inner)-1])
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil {
					return nil, fmt.Errorf("Invalid JSON path: %s", p)
				}
				steps = append(steps, n)
			}
			i += end + 1
		default:
			return nil, fmt.Errorf("Invalid JSON path: %s", p)
		}
	}
	return steps, nil
}

func init() {
	const cat = "JSON"
	reg("EXTRACTJSONFIELD", cat, "Extracts a value from JSON text with a JSONPath such as $.a.b[0].",
		sig("STRING, STRING -> STRING", func(a []any) (any, error) {
			steps, err := jsonPath(str(a[1]))
			if err != nil {
				return nil, err
			}
			doc, err := parseJSON(str(a[0]))
			if err != nil {
				return nil, err
			}
			cur := doc
			for _, s := range steps {
				switch k := s.(type) {
				case string:
					o, ok := cur.(*jsonObj)
					if !ok {
						return nil, nil
					}
					if cur, ok = o.get(k); !ok {
						return nil, nil
					}
				case int:
					arr, ok := cur.([]any)
					if !ok || k < 0 || k >= len(arr) {
						return nil, nil
					}
					cur = arr[k]
				}
			}
			if s, ok := cur.(string); ok {
				return s, nil
			}
			return jsonText(cur), nil
		}))
	reg("IS_JSON_STRING", cat, "Whether the text parses as JSON.", sig("STRING -> BOOLEAN", func(a []any) (any, error) {
		if a[0] == nil || strings.TrimSpace(str(a[0])) == "" {
			return false, nil
		}
		_, err := parseJSON(str(a[0]))
		return err == nil, nil
	}).nullable())
	reg("JSON_ARRAY_LENGTH", cat, "Length of a top-level JSON array.", sig("STRING -> INT", func(a []any) (any, error) {
		doc, err := parseJSON(str(a[0]))
		if err != nil {
			return nil, err
		}
		if arr, ok := doc.([]any); ok {
			return int32(len(arr)), nil
		}
		return nil, nil
	}))
	reg("JSON_KEYS", cat, "Keys of a top-level JSON object.", sig("STRING -> ARRAY<STRING>", func(a []any) (any, error) {
		doc, err := parseJSON(str(a[0]))
		if err != nil {
			return nil, nil
		}
		o, ok := doc.(*jsonObj)
		if !ok {
			return nil, nil
		}
		out := make([]any, len(o.keys))
		for i, k := range o.keys {
			out[i] = k
		}
		return out, nil
	}))
	reg("JSON_RECORDS", cat, "Entries of a top-level JSON object as a map of JSON texts.", sig("STRING -> MAP<STRING, STRING>", func(a []any) (any, error) {
		doc, err := parseJSON(str(a[0]))
		if err != nil {
			return nil, nil
		}
		o, ok := doc.(*jsonObj)
		if !ok {
			return nil, nil
		}
		m := &Map{}
		for i, k := range o.keys {
			if s, ok := o.vals[i].(string); ok {
				m.put(k, s)
			} else {
				m.put(k, jsonText(o.vals[i]))
			}
		}
		return m, nil
	}))
	reg("JSON_ITEMS", cat, "Elements of a top-level JSON array as JSON texts.", sig("STRING -> ARRAY<STRING>", func(a []any) (any, error) {
		doc, err := parseJSON(str(a[0]))
		if err != nil {
			return nil, err
		}
		arr, ok := doc.([]any)
		if !ok {
			return nil, nil
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = jsonText(e)
		}
		return out, nil
	}))
	reg("JSON_CONCAT", cat, "Merges JSON objects or concatenates JSON arrays.", sig("STRING, STRING... -> STRING", func(a []any) (any, error) {
		docs := make([]any, len(a))
		allObj := true
		for i, x := range a {
			if x == nil {
				return nil, nil
			}
			d, err := parseJSON(str(x))
			if err != nil {
				return nil, nil
			}
			docs[i] = d
			if _, ok := d.(*jsonObj); !ok {
				allObj = false
			}
		}
		if allObj {
			out := &jsonObj{}
			for _, d := range docs {
				o := d.(*jsonObj)
				for i, k := range o.keys {
					out.set(k, o.vals[i])
				}
			}
			return jsonText(out), nil
		}
		out := []any{}
		for _, d := range docs {
			if arr, ok := d.([]any); ok {
				out = append(out, arr...)
			} else {
				out = append(out, d)
			}
		}
		return jsonText(out), nil
	}).nullable())
	reg("JSON_ARRAY_CONTAINS", cat, "Whether a top-level JSON array contains a value.", sig("STRING, ANY -> BOOLEAN", func(a []any) (any, error) {
		if a[0] == nil {
			return false, nil
		}
		doc, err := parseJSON(str(a[0]))
		if err != nil {
			return false, nil
		}
		arr, ok := doc.([]any)
		if !ok {
			return false, nil
		}
		for _, e := range arr {
			if jsonElemEquals(e, a[1]) {
				return true, nil
			}
		}
		return false, nil
	}).nullable())
	reg("TO_JSON_STRING", cat, "Renders any value as compact JSON text.", sig("ANY -> STRING", func(a []any) (any, error) {
		var b bytes.Buffer
		writeValueJSON(&b, a[0])
		return b.String(), nil
	}).nullable())
}

func jsonElemEquals(e, v any) bool {
	switch x := v.(type) {
	case nil:
		return e == nil
	case string:
		s, ok := e.(string)
		return ok && s == x
	case bool:
		b, ok := e.(bool)
		return ok && b == x
	case int32, int64:
		n, ok := e.(json.Number)
		if !ok {
			return false
		}
		i, err := n.Int64()
		return err == nil && i == toInt64(v)
	case float64:
		n, ok := e.(json.Number)
		if !ok || !strings.ContainsAny(string(n), ".eE") {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == x
	}
	return false
}

// writeValueJSON renders a SQL value as TO_JSON_STRING does: map and struct
// keys sorted, DECIMAL plain, temporal values as ISO text, BYTES base64.
func writeValueJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(FormatDouble(x))
	case Decimal:
		b.WriteString(decString(x))
	case string:
		writeJSONString(b, x)
	case []byte:
		writeJSONString(b, base64.StdEncoding.EncodeToString(x))
	case Date, Time, Timestamp:
		writeJSONString(b, valueString(x, kUnknown))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValueJSON(b, e)
		}
		b.WriteByte(']')
	case *Map:
		idx := make([]int, len(x.Keys))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool {
			return valueString(x.Keys[idx[i]], kUnknown) < valueString(x.Keys[idx[j]], kUnknown)
		})
		b.WriteByte('{')
		for n, i := range idx {
			if n > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, valueString(x.Keys[i], kUnknown))
			b.WriteByte(':')
			writeValueJSON(b, x.Values[i])
		}
		b.WriteByte('}')
	case *Struct:
		idx := make([]int, len(x.Names))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return x.Names[idx[i]] < x.Names[idx[j]] })
		b.WriteByte('{')
		for n, i := range idx {
			if n > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, x.Names[i])
			b.WriteByte(':')
			writeValueJSON(b, x.Values[i])
		}
		b.WriteByte('}')
	}
}

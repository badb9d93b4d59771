package qtt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// StripComments returns src with `//` line comments and `/* */` block
// comments outside JSON strings replaced by spaces (newlines are kept, so
// line numbers and byte offsets in decoder errors still point at the
// original text). An unterminated block comment is an error.
func StripComments(src []byte) ([]byte, error) {
	out := make([]byte, len(src))
	copy(out, src)
	inString := false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inString {
			switch c {
			case '\\':
				i++ // skip the escaped character
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for i < len(out) && out[i] != '\n' {
				out[i] = ' '
				i++
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			end := bytes.Index(out[i+2:], []byte("*/"))
			if end < 0 {
				return nil, fmt.Errorf("unterminated /* comment at byte %d", i)
			}
			for j := i; j < i+2+end+2; j++ {
				if out[j] != '\n' {
					out[j] = ' '
				}
			}
			i += 2 + end + 1
		}
	}
	return out, nil
}

// decodeExact decodes JSON text into v keeping numbers as json.Number (their
// literal text), like Jackson with USE_BIG_DECIMAL_FOR_FLOATS.
func decodeExact(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return withLine(data, err)
	}
	if dec.More() {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}

// withLine adds a line number to a JSON syntax or type error.
func withLine(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}

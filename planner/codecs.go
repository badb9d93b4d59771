package planner

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
)

// CodecSpecs returns the codec specs of a catalog source's key and value.
// A key with one column is unwrapped; a value with one column is unwrapped
// when its format always is (KAFKA, DELIMITED) or when WRAP_SINGLE_VALUE was
// false (BindCreateSource freezes the session default into the source).
func CodecSpecs(src *Source) (key, value codec.Spec, err error) {
	keyCols, valCols := src.KeyColumns(), src.ValueColumns()
	key = codec.Spec{Format: src.KeyFormat.Name, Delimiter: src.KeyFormat.Delimiter}
	if key.Fields, err = arrowFields(keyCols); err != nil {
		return codec.Spec{}, codec.Spec{}, fmt.Errorf("key of %s: %w", src.Name, err)
	}
	key.Unwrapped = len(keyCols) == 1
	if src.Window != nil {
		switch src.Window.Type {
		case "SESSION":
			key.Window = codec.SessionWindow
		case "TUMBLING", "HOPPING":
			key.Window = codec.TimeWindow
			key.WindowSize = src.Window.Size
		default:
			return codec.Spec{}, codec.Spec{}, fmt.Errorf("source %s: unknown window type %q", src.Name, src.Window.Type)
		}
	}
	value = codec.Spec{Format: src.ValueFormat.Name, Delimiter: src.ValueFormat.Delimiter}
	if value.Fields, err = arrowFields(valCols); err != nil {
		return codec.Spec{}, codec.Spec{}, fmt.Errorf("value of %s: %w", src.Name, err)
	}
	if len(valCols) == 1 {
		switch src.ValueFormat.Name {
		case codec.Kafka, codec.Delimited:
			value.Unwrapped = true
		default:
			value.Unwrapped = src.ValueFormat.WrapSingle != nil && !*src.ValueFormat.WrapSingle
		}
	}
	if key.Format == codec.Delimited && key.Delimiter == 0 {
		key.Delimiter = ','
	}
	if value.Format == codec.Delimited && value.Delimiter == 0 {
		value.Delimiter = ','
	}
	return key, value, nil
}

func arrowFields(cols []Column) ([]arrow.Field, error) {
	out := make([]arrow.Field, len(cols))
	for i, c := range cols {
		t := ArrowType(c.Type)
		if t == nil {
			return nil, fmt.Errorf("column %s has unresolved type %s", c.Name, c.Type)
		}
		out[i] = expr.Field(c.Name, t)
	}
	return out, nil
}

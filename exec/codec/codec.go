package codec

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Format names a serialization format, upper case, as written in
// KEY_FORMAT / VALUE_FORMAT / FORMAT.
const (
	JSON      = "JSON"
	Delimited = "DELIMITED"
	Kafka     = "KAFKA"
	None      = "NONE"
)

// WindowType says whether a key is windowed, and how (Kafka Streams'
// encodings: a time window appends the 8-byte big-endian start; a session
// window appends the 8-byte end, then the 8-byte start).
type WindowType uint8

const (
	NotWindowed WindowType = iota
	TimeWindow             // TUMBLING and HOPPING
	SessionWindow
)

// Spec describes one side (key or value) of a Kafka record.
type Spec struct {
	Format string
	// Fields are the columns serialized on this side, in order. Names are
	// SQL names (case-sensitive after ksqlDB folding). Types are the Arrow
	// types of expr.Types.
	Fields []arrow.Field
	// Unwrapped: a single field is serialized bare (JSON `1`, not `{"K":1}`).
	// Keys with one column are always unwrapped; values are unwrapped only
	// with WRAP_SINGLE_VALUE=false. KAFKA is always unwrapped; DELIMITED
	// ignores it.
	Unwrapped bool
	// Delimiter for DELIMITED (default ',').
	Delimiter byte
	// Window, for keys: the window encoding that follows the key bytes.
	Window WindowType
	// WindowSize (ms) of a TimeWindow key, used to derive WINDOWEND on read.
	WindowSize int64
}

// Decoder decodes the bytes of a key or value into Arrow builders.
//
// Decode appends exactly one value to each of bs (len(bs) == len(Fields),
// plus 2 for WINDOWSTART and WINDOWEND when the spec is windowed), even when
// it fails: on error every builder it had not yet appended to gets a NULL, so
// columns stay aligned; the caller then drops the row. Decode(nil) appends
// NULL to every field (a null key or value). Decoders reuse internal buffers
// and are not safe for concurrent use; one task owns each.
type Decoder interface {
	Decode(data []byte, bs []array.Builder) error
}

// Encoder encodes row `row` of cols (one array per field, plus WINDOWSTART
// and WINDOWEND for a windowed spec) and appends the bytes to dst. It returns
// nil bytes for a NULL single unwrapped value where the format says null.
type Encoder interface {
	Encode(dst []byte, cols []arrow.Array, row int) ([]byte, error)
}

// Package codec serializes keys and values of Kafka records in ksqlDB's
// formats (JSON, DELIMITED, KAFKA, NONE), decoding bytes straight into Arrow
// builders and encoding rows of Arrow arrays back to bytes, byte-compatible
// with ksqlDB and Kafka Streams (windowed keys included).
//
// # What it owns
//
//   - NewDecoder / NewEncoder: validate a Spec for its format once (typed
//     *SpecError, errors.Is(err, ErrUnsupported), with ksqlDB's wording and
//     a hint) and return a codec that works a record at a time against
//     caller-owned builders or arrays.
//   - EncodeValue / DecodeToValues: one row as Go values (exec/expr's
//     representation). They build one-row arrays and run the same columnar
//     codec, so there is exactly one implementation per format.
//   - IsNullRecord: whether bytes are a null record (Kafka null, or a JSON
//     `null` document), which Decode cannot express through builders.
//
// # Invariants
//
//  1. Decode appends exactly one entry to every builder it is given, nested
//     builders included, whether it succeeds or fails (failures append NULL
//     where nothing was appended). Sources rely on it to keep columns
//     aligned and then drop the failed row.
//  2. Steady-state decoding and encoding make no heap allocations per record
//     beyond the growth of Arrow builders: strings and numbers are parsed in
//     place, scratch buffers live in the codec, and the JSON decoder's
//     per-type scratch hangs off the prepared type tree (types are finite
//     trees, so no node is ever decoded re-entrantly).
//  3. A non-NULL encoding is never a nil slice (an empty KAFKA STRING is
//     zero bytes, not a Kafka null); nil means a Kafka null.
//  4. Codecs are not safe for concurrent use; one task owns each.
//  5. Builders and arrays passed in must have the Spec's Arrow types
//     (array.NewBuilder(mem, field.Type)); a mismatch is a programming error
//     and panics.
//
// # JSON
//
// A hand-written scanner over the input bytes. encoding/json/v2's jsontext
// is still behind GOEXPERIMENT in Go 1.26, and the general libraries
// (goccy/go-json and friends) decode into Go values, which would put a
// map[string]any or reflection in the hot path; ksqlDB's coercions also need
// the literal text of numbers (decimals keep their scale, numbers coerced to
// STRING keep their spelling), which token streams built on float64 lose.
//
// Reading follows ksqlDB's KsqlJsonDeserializer over a Jackson tree:
//   - A field matches a JSON key that equals its name, else one whose
//     upper-cased form equals it (so unquoted, upper-case columns match any
//     case, and quoted lower-case columns only match exactly). Exact beats
//     upper-cased; among duplicates the last wins. Missing fields and JSON
//     null are NULL; extra keys are ignored. Objects are read in two passes
//     (find each field's value, then decode in field order).
//   - Coercions: INT/BIGINT/DATE/TIME/TIMESTAMP from numbers (fractions
//     truncated, an INT keeps the low 32 bits as Java's intValue() does) or
//     from strings holding a plain integer; DOUBLE from numbers or strings
//     (Double.parseDouble); DECIMAL from numbers or strings, which must fit
//     the declared scale without rounding (trailing zeros may go) and the
//     precision; BOOLEAN only from JSON booleans; STRING from anything: a
//     number's text as written, true/false, an object as compact JSON, an
//     array as "[a, b]"; BYTES from base64 (padded or not); ARRAY from
//     arrays; MAP (STRING keys only) and STRUCT from objects.
//   - A wrapped value must be a JSON object; an unwrapped one is the bare
//     value. Content after the first JSON value is ignored, as Jackson's
//     readTree does.
//
// Writing follows Kafka Connect's JsonConverter as ksqlDB configures it:
// compact, columns as keys in order, DOUBLE as Java's Double.toString (NaN
// and infinities as strings, as Jackson writes them), DECIMAL as
// BigDecimal.toString (scale kept: 1.10; below 1E-6 in exponent form:
// 1E-7, 0E-16), TIMESTAMP/TIME as ms, DATE as days, BYTES as padded base64,
// MAP and STRUCT as objects. A NULL unwrapped value is a Kafka null.
//
// # DELIMITED
//
// ksqlDB's delimited serde over commons-csv 1.4 CSVFormat.DEFAULT: only the
// first record of a value is read; an empty field is NULL; the field count
// must match; values use Java's parsers (Boolean.parseBoolean is true only
// for "true" in any case). Writing uses commons-csv's minimal quoting,
// including its quirks: the first field of a record is quoted when it
// starts with anything but [0-9A-Za-z] (so a leading "-5" is written
// "\"-5\""), any field starting with a character <= '#' or ending with one
// <= ' ' is quoted. DECIMAL is plain with its scale, DOUBLE as Java prints
// it, BYTES base64, DATE/TIME/TIMESTAMP as integers. A single NULL column
// is a Kafka null.
//
// # KAFKA, NONE, windows
//
// KAFKA is Kafka's primitive serdes (INT 4 bytes and BIGINT 8 bytes big
// endian, DOUBLE 8-byte IEEE bits, STRING UTF-8, BYTES raw) for at most one
// column. NONE has no columns. A windowed key is the inner key followed by
// the 8-byte big-endian start (time windows; end = start + WindowSize) or
// the 8-byte end and then the start (session windows); WINDOWSTART and
// WINDOWEND follow the key columns.
//
// # Known differences from ksqlDB
//
//   - MAP entries are written in their Arrow (insertion) order, where
//     ksqlDB writes Java HashMap order; readers compare maps as maps.
//   - A JSON number coerced to STRING keeps its literal spelling; ksqlDB
//     normalizes some exponent forms (1e5 becomes 1E+5).
//   - An integer literal beyond BIGINT's range fails instead of wrapping.
//   - A NULL inner key of a windowed key is written as no bytes (Kafka
//     Streams would fail); JSON and DELIMITED read no bytes back as NULL.
package codec

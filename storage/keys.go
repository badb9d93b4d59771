package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Order-preserving key encoding.
//
// Every Append function appends the encoding of one value to dst and returns
// the extended slice, so a key is built left to right without intermediate
// allocations. The encoding has two invariants that the operators rely on
// (DESIGN.md decision 6):
//
//  1. Order: for two values a and b of the same type, a < b if and only if
//     bytes.Compare(enc(a), enc(b)) < 0. Because of 2., this extends to
//     tuples: comparing two keys built from the same sequence of types
//     compares them field by field, like a composite index.
//  2. Prefix freedom: the encoding of one value is never a proper prefix of
//     the encoding of another value of the same type. Fixed-width integers
//     have this trivially; strings and byte strings are escaped and end in a
//     terminator. So the keys under a Prefix never collide with the keys of
//     a neighbouring prefix, and a prefix scan never returns a key of a
//     different (query, operator, partition).
//
// The encoding is not self-describing: a decoder must know the sequence of
// types, which is fine because every key space is owned by exactly one
// operator.

// Byte-string escaping: 0x00 inside the value becomes 0x00 0xFF and the
// value ends with 0x00 0x01. 0x01 < 0xFF, so a value that ends sorts before
// any longer value that continues with 0x00, and both sort before any value
// that continues with a byte above 0x00: exactly the order of bytes.Compare
// on the raw values.
const (
	escapeByte     = 0x00
	escapedZero    = 0xFF
	terminatorByte = 0x01
)

var errShortKey = errors.New("key too short")

// AppendUint32 appends v as 4 bytes big endian.
func AppendUint32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// AppendUint64 appends v as 8 bytes big endian.
func AppendUint64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// AppendInt32 appends v as 4 bytes big endian with the sign bit flipped, so
// negative values sort before positive ones.
func AppendInt32(dst []byte, v int32) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(v)^(1<<31))
}

// AppendInt64 appends v as 8 bytes big endian with the sign bit flipped, so
// negative values sort before positive ones.
func AppendInt64(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v)^(1<<63))
}

// AppendFloat64 appends v in 8 bytes that sort like the numbers: -Inf first,
// +Inf last. -0 is encoded as +0 and every NaN as one canonical NaN that sorts
// after +Inf (as in Postgres), so values SQL considers equal in GROUP BY and
// joins get equal keys.
func AppendFloat64(dst []byte, v float64) []byte {
	switch {
	case v == 0:
		v = 0 // folds -0 into +0
	case math.IsNaN(v):
		return binary.BigEndian.AppendUint64(dst, math.MaxUint64)
	}
	bits := math.Float64bits(v)
	if bits&(1<<63) != 0 {
		// Negative: inverting every bit reverses the magnitude order and
		// puts them below the positives.
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, bits)
}

// AppendString appends s escaped and terminated (see AppendBytes).
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == escapeByte {
			dst = append(dst, escapeByte, escapedZero)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, escapeByte, terminatorByte)
}

// AppendBytes appends b with every 0x00 escaped as 0x00 0xFF, followed by
// the terminator 0x00 0x01. A nil and an empty slice encode the same.
func AppendBytes(dst, b []byte) []byte {
	for _, c := range b {
		if c == escapeByte {
			dst = append(dst, escapeByte, escapedZero)
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, escapeByte, terminatorByte)
}

// DecodeUint32 decodes a value written by AppendUint32 and returns the rest
// of the key.
func DecodeUint32(b []byte) (uint32, []byte, error) {
	if len(b) < 4 {
		return 0, nil, fmt.Errorf("decode uint32: %w", errShortKey)
	}
	return binary.BigEndian.Uint32(b), b[4:], nil
}

// DecodeUint64 decodes a value written by AppendUint64.
func DecodeUint64(b []byte) (uint64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, fmt.Errorf("decode uint64: %w", errShortKey)
	}
	return binary.BigEndian.Uint64(b), b[8:], nil
}

// DecodeInt32 decodes a value written by AppendInt32.
func DecodeInt32(b []byte) (int32, []byte, error) {
	if len(b) < 4 {
		return 0, nil, fmt.Errorf("decode int32: %w", errShortKey)
	}
	return int32(binary.BigEndian.Uint32(b) ^ (1 << 31)), b[4:], nil
}

// DecodeInt64 decodes a value written by AppendInt64.
func DecodeInt64(b []byte) (int64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, fmt.Errorf("decode int64: %w", errShortKey)
	}
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), b[8:], nil
}

// DecodeFloat64 decodes a value written by AppendFloat64.
func DecodeFloat64(b []byte) (float64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, fmt.Errorf("decode float64: %w", errShortKey)
	}
	bits := binary.BigEndian.Uint64(b)
	switch {
	case bits == math.MaxUint64:
		return math.NaN(), b[8:], nil
	case bits&(1<<63) != 0:
		bits &^= 1 << 63
	default:
		bits = ^bits
	}
	return math.Float64frombits(bits), b[8:], nil
}

// DecodeBytes decodes a value written by AppendBytes or AppendString,
// appending the raw bytes to dst (which may be nil), and returns the rest of
// the key.
func DecodeBytes(b, dst []byte) (val, rest []byte, err error) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != escapeByte {
			dst = append(dst, c)
			continue
		}
		if i+1 == len(b) {
			break
		}
		switch b[i+1] {
		case escapedZero:
			dst = append(dst, escapeByte)
			i++
		case terminatorByte:
			return dst, b[i+2:], nil
		default:
			return nil, nil, fmt.Errorf("decode bytes: invalid escape 0x00 0x%02x at %d", b[i+1], i)
		}
	}
	return nil, nil, fmt.Errorf("decode bytes: missing terminator: %w", errShortKey)
}

// DecodeString decodes a value written by AppendString.
func DecodeString(b []byte) (string, []byte, error) {
	v, rest, err := DecodeBytes(b, nil)
	if err != nil {
		return "", nil, err
	}
	return string(v), rest, nil
}

// PrefixEnd returns the smallest key that is greater than every key starting
// with prefix, for use as an exclusive upper bound. It returns nil (no upper
// bound) when prefix is empty or all 0xFF.
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Namespace is the first byte of every key in a State. It separates the
// engine's key spaces so that, for example, a scan over all operator state
// never sees catalog metadata.
type Namespace byte

const (
	// NamespaceMeta holds engine metadata such as the catalog snapshot
	// (PutMeta and GetMeta).
	NamespaceMeta Namespace = 0x01
	// NamespaceOperator holds the state of stateful operators, under a
	// Prefix per (query, operator, partition).
	NamespaceOperator Namespace = 0x02
	// NamespaceCheckpoint holds, per (query, operator, partition), the
	// changelog offsets that the local state reflects (DESIGN.md decision 6).
	NamespaceCheckpoint Namespace = 0x03
)

// Prefix identifies the key space of one stateful operator in one task:
// namespace, query id, operator id and input partition, in that order. Keys
// of the operator are Prefix.AppendTo(nil) followed by the operator's own
// encoded fields.
//
// Because the query id is a terminated string, QueryPrefix(ns, q) is a
// prefix of every key of query q and of no key of another query, so dropping
// a query's state is one range deletion.
type Prefix struct {
	Namespace Namespace
	Query     string
	Operator  uint32 // the operator's id within its query's plan
	Partition int32  // the task's input partition; -1 for state shared by all partitions
}

// AppendTo appends the encoded prefix to dst.
func (p Prefix) AppendTo(dst []byte) []byte {
	dst = append(dst, byte(p.Namespace))
	dst = AppendString(dst, p.Query)
	dst = AppendUint32(dst, p.Operator)
	return AppendInt32(dst, p.Partition)
}

// Bytes returns the encoded prefix in a new slice.
func (p Prefix) Bytes() []byte {
	return p.AppendTo(make([]byte, 0, 1+len(p.Query)+2+4+4))
}

// String returns a readable form for logs and errors.
func (p Prefix) String() string {
	return fmt.Sprintf("ns=%d/query=%s/op=%d/part=%d", p.Namespace, p.Query, p.Operator, p.Partition)
}

// DecodePrefix decodes a key that starts with an encoded Prefix and returns
// the prefix and the rest of the key.
func DecodePrefix(key []byte) (Prefix, []byte, error) {
	var p Prefix
	if len(key) == 0 {
		return p, nil, fmt.Errorf("decode prefix: %w", errShortKey)
	}
	p.Namespace = Namespace(key[0])
	var err error
	if p.Query, key, err = DecodeString(key[1:]); err != nil {
		return p, nil, fmt.Errorf("decode prefix: %w", err)
	}
	if p.Operator, key, err = DecodeUint32(key); err != nil {
		return p, nil, fmt.Errorf("decode prefix: %w", err)
	}
	if p.Partition, key, err = DecodeInt32(key); err != nil {
		return p, nil, fmt.Errorf("decode prefix: %w", err)
	}
	return p, key, nil
}

// QueryPrefix returns the prefix shared by every key of query in namespace
// ns, across all its operators and partitions.
func QueryPrefix(ns Namespace, query string) []byte {
	return AppendString([]byte{byte(ns)}, query)
}

func metaKey(name string) []byte {
	return AppendString([]byte{byte(NamespaceMeta)}, name)
}

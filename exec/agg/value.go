package agg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow/go/v17/arrow/decimal128"

	"github.com/sluicedb/sluice/exec/expr"
)

// Value encoding.
//
// Aggregation state (group keys, accumulators, the last value of a table
// row) is stored as bytes. A value is one tag byte followed by its payload:
//
//	tagNull                                  (no payload)
//	tagFalse, tagTrue                        (no payload)
//	tagInt        4 bytes big endian
//	tagBigint     8 bytes big endian
//	tagDouble     8 bytes, IEEE-754 bits big endian
//	tagDecimal    uvarint precision, uvarint scale, 16 bytes (hi, lo) big endian
//	tagString     uvarint length, bytes
//	tagBytes      uvarint length, bytes
//	tagDate       4 bytes;  tagTime 4 bytes;  tagTimestamp 8 bytes
//	tagArray      uvarint n, n values
//	tagMap        uvarint n, n (key, value) pairs, ordered by encoded key
//	tagStruct     uvarint n, n (uvarint name length, name, value)
//
// Two invariants matter to the operators:
//
//  1. Canonical: equal SQL values of the same type encode to equal bytes,
//     so the encoding is the identity of a group key and of a COLLECT_SET
//     element. (Doubles are compared by bits, as Kafka Streams compares
//     serialized keys.)
//  2. Prefix-free: no encoding is a proper prefix of another, because
//     every variable-length part is length-prefixed. A tuple of encoded
//     values is therefore unambiguous, and a state key made of an encoded
//     group key followed by more fields never collides with another group.
//
// The encoding is self-describing (tags), so a decoder needs no schema.
const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagInt
	tagBigint
	tagDouble
	tagDecimal
	tagString
	tagBytes
	tagDate
	tagTime
	tagTimestamp
	tagArray
	tagMap
	tagStruct
)

var errShort = errors.New("agg: truncated value")

// AppendValue appends the encoding of v (a Go SQL value, see package
// exec/expr) to dst.
func AppendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, tagNull)
	case bool:
		if v {
			return append(dst, tagTrue)
		}
		return append(dst, tagFalse)
	case int32:
		return binary.BigEndian.AppendUint32(append(dst, tagInt), uint32(v))
	case int64:
		return binary.BigEndian.AppendUint64(append(dst, tagBigint), uint64(v))
	case float64:
		return binary.BigEndian.AppendUint64(append(dst, tagDouble), math.Float64bits(v))
	case expr.Decimal:
		dst = append(dst, tagDecimal)
		dst = binary.AppendUvarint(dst, uint64(v.Precision))
		dst = binary.AppendUvarint(dst, uint64(v.Scale))
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.V.HighBits()))
		return binary.BigEndian.AppendUint64(dst, v.V.LowBits())
	case string:
		dst = binary.AppendUvarint(append(dst, tagString), uint64(len(v)))
		return append(dst, v...)
	case []byte:
		dst = binary.AppendUvarint(append(dst, tagBytes), uint64(len(v)))
		return append(dst, v...)
	case expr.Date:
		return binary.BigEndian.AppendUint32(append(dst, tagDate), uint32(v))
	case expr.Time:
		return binary.BigEndian.AppendUint32(append(dst, tagTime), uint32(v))
	case expr.Timestamp:
		return binary.BigEndian.AppendUint64(append(dst, tagTimestamp), uint64(v))
	case []any:
		dst = binary.AppendUvarint(append(dst, tagArray), uint64(len(v)))
		for _, e := range v {
			dst = AppendValue(dst, e)
		}
		return dst
	case *expr.Map:
		if v == nil {
			return append(dst, tagNull)
		}
		// Entries are written in key-encoding order: SQL maps are equal
		// regardless of insertion order, and the encoding must be
		// canonical (invariant 1).
		type entry struct{ k, v []byte }
		es := make([]entry, len(v.Keys))
		for i := range v.Keys {
			es[i] = entry{AppendValue(nil, v.Keys[i]), AppendValue(nil, v.Values[i])}
		}
		sort.Slice(es, func(i, j int) bool { return bytes.Compare(es[i].k, es[j].k) < 0 })
		dst = binary.AppendUvarint(append(dst, tagMap), uint64(len(es)))
		for _, e := range es {
			dst = append(append(dst, e.k...), e.v...)
		}
		return dst
	case *expr.Struct:
		if v == nil {
			return append(dst, tagNull)
		}
		dst = binary.AppendUvarint(append(dst, tagStruct), uint64(len(v.Values)))
		for i := range v.Values {
			dst = binary.AppendUvarint(dst, uint64(len(v.Names[i])))
			dst = append(dst, v.Names[i]...)
			dst = AppendValue(dst, v.Values[i])
		}
		return dst
	}
	// Every type ValueAt returns is handled above; anything else is a bug
	// in the caller, and silently encoding it as NULL would corrupt state.
	panic(fmt.Sprintf("agg: cannot encode %T", v))
}

// ReadValue decodes one value written by AppendValue and returns the rest
// of src. Strings and byte slices are copied: src usually belongs to a
// state store and is only valid until its next call.
func ReadValue(src []byte) (any, []byte, error) {
	if len(src) == 0 {
		return nil, nil, errShort
	}
	tag, src := src[0], src[1:]
	fixed := func(n int) ([]byte, []byte, error) {
		if len(src) < n {
			return nil, nil, errShort
		}
		return src[:n], src[n:], nil
	}
	switch tag {
	case tagNull:
		return nil, src, nil
	case tagFalse:
		return false, src, nil
	case tagTrue:
		return true, src, nil
	case tagInt, tagDate, tagTime:
		b, rest, err := fixed(4)
		if err != nil {
			return nil, nil, err
		}
		u := binary.BigEndian.Uint32(b)
		switch tag {
		case tagDate:
			return expr.Date(int32(u)), rest, nil
		case tagTime:
			return expr.Time(int32(u)), rest, nil
		}
		return int32(u), rest, nil
	case tagBigint, tagDouble, tagTimestamp:
		b, rest, err := fixed(8)
		if err != nil {
			return nil, nil, err
		}
		u := binary.BigEndian.Uint64(b)
		switch tag {
		case tagDouble:
			return math.Float64frombits(u), rest, nil
		case tagTimestamp:
			return expr.Timestamp(int64(u)), rest, nil
		}
		return int64(u), rest, nil
	case tagDecimal:
		p, rest, err := readUvarint(src)
		if err != nil {
			return nil, nil, err
		}
		s, rest, err := readUvarint(rest)
		if err != nil {
			return nil, nil, err
		}
		if len(rest) < 16 {
			return nil, nil, errShort
		}
		hi, lo := int64(binary.BigEndian.Uint64(rest)), binary.BigEndian.Uint64(rest[8:])
		return expr.Decimal{V: decimal128.New(hi, lo), Precision: int32(p), Scale: int32(s)}, rest[16:], nil
	case tagString, tagBytes:
		n, rest, err := readUvarint(src)
		if err != nil {
			return nil, nil, err
		}
		if uint64(len(rest)) < n {
			return nil, nil, errShort
		}
		if tag == tagString {
			return string(rest[:n]), rest[n:], nil
		}
		return append([]byte{}, rest[:n]...), rest[n:], nil
	case tagArray:
		n, rest, err := readLen(src)
		if err != nil {
			return nil, nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], rest, err = ReadValue(rest); err != nil {
				return nil, nil, err
			}
		}
		return out, rest, nil
	case tagMap:
		n, rest, err := readLen(src)
		if err != nil {
			return nil, nil, err
		}
		m := &expr.Map{Keys: make([]any, n), Values: make([]any, n)}
		for i := 0; i < n; i++ {
			if m.Keys[i], rest, err = ReadValue(rest); err != nil {
				return nil, nil, err
			}
			if m.Values[i], rest, err = ReadValue(rest); err != nil {
				return nil, nil, err
			}
		}
		return m, rest, nil
	case tagStruct:
		n, rest, err := readLen(src)
		if err != nil {
			return nil, nil, err
		}
		s := &expr.Struct{Names: make([]string, n), Values: make([]any, n)}
		for i := 0; i < n; i++ {
			l, r, err := readUvarint(rest)
			if err != nil {
				return nil, nil, err
			}
			if uint64(len(r)) < l {
				return nil, nil, errShort
			}
			s.Names[i] = string(r[:l])
			if s.Values[i], rest, err = ReadValue(r[l:]); err != nil {
				return nil, nil, err
			}
		}
		return s, rest, nil
	}
	return nil, nil, fmt.Errorf("agg: unknown value tag %d", tag)
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errShort
	}
	return v, b[n:], nil
}

// readLen reads an element count, bounded by the bytes left (every element
// takes at least one byte), so corrupt state cannot cause a huge
// allocation.
func readLen(b []byte) (int, []byte, error) {
	n, rest, err := readUvarint(b)
	if err != nil {
		return 0, nil, err
	}
	if n > uint64(len(rest)) {
		return 0, nil, errShort
	}
	return int(n), rest, nil
}

// AppendUvarint and ReadUvarint are the length prefixes of the state
// encodings built on AppendValue.
func AppendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// ReadUvarint reads a value written by AppendUvarint.
func ReadUvarint(b []byte) (uint64, []byte, error) { return readUvarint(b) }

// AppendVarint appends a signed varint.
func AppendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// ReadVarint reads a value written by AppendVarint.
func ReadVarint(b []byte) (int64, []byte, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, errShort
	}
	return v, b[n:], nil
}

// compare orders two non-NULL values of the same SQL type (the types MIN,
// MAX and TOPK accept). Strings compare by UTF-8 bytes, which is code point
// order.
func compare(a, b any) int {
	switch x := a.(type) {
	case int32:
		return cmp3(x, b.(int32))
	case int64:
		return cmp3(x, b.(int64))
	case float64:
		y := b.(float64)
		// Java's Double.compareTo: NaN is the largest value, -0 < +0.
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		case x == 0 && y == 0:
			return cmp3(boolInt(!math.Signbit(x)), boolInt(!math.Signbit(y)))
		}
		return cmp3(x, y)
	case expr.Decimal:
		return compareDecimal(x, b.(expr.Decimal))
	case string:
		return cmp3(x, b.(string))
	case []byte:
		return cmp3(string(x), string(b.([]byte)))
	case expr.Date:
		return cmp3(x, b.(expr.Date))
	case expr.Time:
		return cmp3(x, b.(expr.Time))
	case expr.Timestamp:
		return cmp3(x, b.(expr.Timestamp))
	case bool:
		return cmp3(boolInt(x), boolInt(b.(bool)))
	}
	panic(fmt.Sprintf("agg: cannot compare %T", a))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmp3[T int | int32 | int64 | float64 | string | expr.Date | expr.Time | expr.Timestamp](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareDecimal compares two decimals, rescaling to the larger scale.
func compareDecimal(a, b expr.Decimal) int {
	av, bv := a.V, b.V
	if a.Scale < b.Scale {
		av = av.IncreaseScaleBy(b.Scale - a.Scale)
	} else if b.Scale < a.Scale {
		bv = bv.IncreaseScaleBy(a.Scale - b.Scale)
	}
	return av.Cmp(bv)
}

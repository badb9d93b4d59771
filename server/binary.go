package server

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice"
)

// Binary formats. Drivers such as pgx ask for binary results for the types
// they know and send binary parameters; the layouts below are Postgres'
// send/recv functions (int2send, numeric_send, timestamp_send, ...).

// pgEpochMs is 2000-01-01 00:00:00 UTC, Postgres' epoch for date and
// timestamp binary values, in Unix milliseconds.
const pgEpochMs = 946684800000

// pgEpochDays is 2000-01-01 in days since 1970-01-01.
const pgEpochDays = 10957

// hasBinary reports whether values of the type can be sent in binary.
func hasBinary(oid uint32) bool {
	switch oid {
	case oidBool, oidBytea, oidChar, oidName, oidInt8, oidInt2, oidInt4, oidText, oidOID,
		oidJSON, oidFloat4, oidFloat8, oidUnknown, oidBPChar, oidVarchar, oidDate, oidTime,
		oidTimestamp, oidTimestampTZ, oidNumeric, oidJSONB:
		return true
	}
	return false
}

// appendBinary appends v in the binary format of type oid. v is never nil.
func appendBinary(dst []byte, oid uint32, v any) ([]byte, error) {
	switch oid {
	case oidBool:
		if b, ok := v.(bool); ok {
			if b {
				return append(dst, 1), nil
			}
			return append(dst, 0), nil
		}
	case oidInt2, oidInt4, oidInt8, oidOID:
		n, ok := asInt64(v)
		if !ok {
			break
		}
		switch oid {
		case oidInt2:
			return binary.BigEndian.AppendUint16(dst, uint16(n)), nil
		case oidInt8:
			return binary.BigEndian.AppendUint64(dst, uint64(n)), nil
		}
		return binary.BigEndian.AppendUint32(dst, uint32(n)), nil
	case oidFloat4, oidFloat8:
		f, ok := v.(float64)
		if !ok {
			n, isInt := asInt64(v)
			if !isInt {
				break
			}
			f = float64(n)
		}
		if oid == oidFloat4 {
			return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case oidNumeric:
		switch d := v.(type) {
		case sluice.Decimal:
			return appendNumericBinary(dst, d.V.BigInt(), int(d.Scale)), nil
		default:
			if n, ok := asInt64(v); ok {
				return appendNumericBinary(dst, big.NewInt(n), 0), nil
			}
		}
	case oidBytea:
		if b, ok := v.([]byte); ok {
			return append(dst, b...), nil
		}
	case oidDate:
		if d, ok := v.(sluice.Date); ok {
			return binary.BigEndian.AppendUint32(dst, uint32(int32(int64(d)-pgEpochDays))), nil
		}
	case oidTime:
		if t, ok := v.(sluice.Time); ok {
			return binary.BigEndian.AppendUint64(dst, uint64(int64(t)*1000)), nil
		}
	case oidTimestamp, oidTimestampTZ:
		if t, ok := v.(sluice.Timestamp); ok {
			return binary.BigEndian.AppendUint64(dst, uint64((int64(t)-pgEpochMs)*1000)), nil
		}
	case oidJSONB:
		return appendJSONText(append(dst, 1), v)
	case oidJSON:
		return appendJSONText(dst, v)
	default:
		// text, varchar, name, char, unknown: the binary format is the text.
		return appendText(dst, v)
	}
	return dst, fmt.Errorf("server: no binary rendering of Go type %T as type %d", v, oid)
}

// appendJSONText renders a json column's value: a string holds JSON text
// already, anything else is rendered as JSON.
func appendJSONText(dst []byte, v any) ([]byte, error) {
	if s, ok := v.(string); ok {
		return append(dst, s...), nil
	}
	return appendJSON(dst, v)
}

func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case uint32:
		return int64(n), true
	}
	return 0, false
}

// appendNumericBinary encodes unscaled × 10^-scale in numeric_send's layout:
// ndigits, weight, sign, dscale (int16 each), then base-10000 digits.
func appendNumericBinary(dst []byte, unscaled *big.Int, scale int) []byte {
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).Text(10)
	if scale < 0 {
		digits += strings.Repeat("0", -scale)
		scale = 0
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	intPart, frac := digits[:len(digits)-scale], digits[len(digits)-scale:]
	if pad := (4 - len(intPart)%4) % 4; pad > 0 {
		intPart = strings.Repeat("0", pad) + intPart
	}
	if pad := (4 - len(frac)%4) % 4; pad > 0 {
		frac += strings.Repeat("0", pad)
	}
	all := intPart + frac
	groups := make([]int16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		g, _ := strconv.Atoi(all[i : i+4])
		groups = append(groups, int16(g))
	}
	weight := len(intPart)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(0)
	if neg && len(groups) > 0 {
		sign = 0x4000
	}
	if len(groups) == 0 {
		weight = 0
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(scale))
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, uint16(g))
	}
	return dst
}

// decodeNumericBinary turns numeric_send's layout back into decimal text.
func decodeNumericBinary(b []byte) (string, error) {
	if len(b) < 8 {
		return "", errBadParam
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n {
		return "", errBadParam
	}
	switch sign {
	case 0xC000:
		return "NaN", nil
	case 0xD000:
		return "Infinity", nil
	case 0xF000:
		return "-Infinity", nil
	case 0, 0x4000:
	default:
		// numeric_recv refuses other signs; reading one as positive
		// would turn a corrupt parameter into a plausible number.
		return "", errBadParam
	}
	v := new(big.Int)
	tenK := big.NewInt(10000)
	for i := range n {
		d := binary.BigEndian.Uint16(b[8+2*i:])
		if d >= 10000 {
			return "", errBadParam
		}
		v.Mul(v, tenK)
		v.Add(v, big.NewInt(int64(d)))
	}
	// v is the digits with the last group at 10000^(weight-n+1).
	exp := 4 * (weight - n + 1) // power of ten of v's last digit
	if sign == 0x4000 {
		v.Neg(v)
	}
	shift := exp + dscale // v × 10^exp expressed with dscale fraction digits
	if shift >= 0 {
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	} else {
		v.Quo(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-shift)), nil))
	}
	return string(appendScaled(nil, v, dscale)), nil
}

var errBadParam = fmt.Errorf("malformed binary parameter")

// paramText turns one Bind parameter into its text form, decoding the
// binary formats of the types drivers send. The result is what Postgres'
// text input functions would read.
func paramText(oid uint32, format int16, raw []byte) (string, error) {
	if format == 0 {
		return string(raw), nil
	}
	be := binary.BigEndian
	switch oid {
	case oidBool:
		if len(raw) != 1 {
			return "", errBadParam
		}
		if raw[0] != 0 {
			return "true", nil
		}
		return "false", nil
	case oidInt2:
		if len(raw) != 2 {
			return "", errBadParam
		}
		return strconv.Itoa(int(int16(be.Uint16(raw)))), nil
	case oidInt4:
		if len(raw) != 4 {
			return "", errBadParam
		}
		return strconv.Itoa(int(int32(be.Uint32(raw)))), nil
	case oidOID:
		if len(raw) != 4 {
			return "", errBadParam
		}
		return strconv.FormatUint(uint64(be.Uint32(raw)), 10), nil
	case oidInt8:
		if len(raw) != 8 {
			return "", errBadParam
		}
		return strconv.FormatInt(int64(be.Uint64(raw)), 10), nil
	case oidFloat4:
		if len(raw) != 4 {
			return "", errBadParam
		}
		return strconv.FormatFloat(float64(math.Float32frombits(be.Uint32(raw))), 'g', -1, 32), nil
	case oidFloat8:
		if len(raw) != 8 {
			return "", errBadParam
		}
		return strconv.FormatFloat(math.Float64frombits(be.Uint64(raw)), 'g', -1, 64), nil
	case oidNumeric:
		return decodeNumericBinary(raw)
	case oidBytea:
		return `\x` + hex.EncodeToString(raw), nil
	case oidDate:
		if len(raw) != 4 {
			return "", errBadParam
		}
		days := int64(int32(be.Uint32(raw))) + pgEpochDays
		return string(appendDate(nil, days)), nil
	case oidTime:
		if len(raw) != 8 {
			return "", errBadParam
		}
		us := int64(be.Uint64(raw))
		return time.UnixMicro(us).UTC().Format("15:04:05.999999"), nil
	case oidTimestamp, oidTimestampTZ:
		if len(raw) != 8 {
			return "", errBadParam
		}
		us := int64(be.Uint64(raw)) + pgEpochMs*1000
		return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.999999"), nil
	case oidJSONB:
		if len(raw) < 1 || raw[0] != 1 {
			return "", errBadParam
		}
		return string(raw[1:]), nil
	case oidText, oidVarchar, oidName, oidBPChar, oidChar, oidUnknown, oidJSON, 0:
		return string(raw), nil
	}
	return "", fmt.Errorf("binary parameters of type %s are not supported", pgTypeName(oid))
}

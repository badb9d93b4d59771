package server

import (
	"encoding/hex"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/decimal128"

	"github.com/sluicedb/sluice"
)

// numericHex renders numeric_send's layout as groups of four hex digits:
// ndigits weight sign dscale digit...
func numericHex(b []byte) string {
	h := hex.EncodeToString(b)
	var groups []string
	for i := 0; i+4 <= len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return strings.Join(groups, " ")
}

// TestNumericBinaryLayout checks byte layouts against what Postgres'
// numeric_send produces for the same values (SELECT numeric_send(x)).
func TestNumericBinaryLayout(t *testing.T) {
	cases := []struct {
		unscaled string
		scale    int
		want     string
	}{
		{"0", 0, "0000 0000 0000 0000"},
		{"0", 2, "0000 0000 0000 0002"},                       // 0.00
		{"1", 0, "0001 0000 0000 0000 0001"},                  // 1
		{"-1", 2, "0001 ffff 4000 0002 0064"},                 // -0.01
		{"150", 2, "0002 0000 0000 0002 0001 1388"},           // 1.50
		{"10000", 0, "0001 0001 0000 0000 0001"},              // 10000: trailing zero groups dropped
		{"12345678", 3, "0003 0001 0000 0003 0001 0929 1a7c"}, // 12345.678
		{"5", -3, "0001 0000 0000 0000 1388"},                 // 5E+3 = 5000
		{"123456789012345678901234567890", 10, // 12345678901234567890.1234567890
			"0008 0004 0000 000a 04d2 162e 2334 0d80 1ed2 04d2 162e 2328"},
	}
	for _, c := range cases {
		n, _ := new(big.Int).SetString(c.unscaled, 10)
		got := numericHex(appendNumericBinary(nil, n, c.scale))
		if got != c.want {
			t.Errorf("%s × 10^-%d: got %s, want %s", c.unscaled, c.scale, got, c.want)
		}
	}
}

// TestNumericBinaryRoundTrip: what the server sends, a driver sending it
// back as a parameter decodes to the same decimal text.
func TestNumericBinaryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		digits := 1 + r.Intn(38) // DECIMAL's 38 digits
		var b strings.Builder
		if r.Intn(2) == 0 {
			b.WriteByte('-')
		}
		for range digits {
			b.WriteByte(byte('0' + r.Intn(10)))
		}
		n, _ := new(big.Int).SetString(b.String(), 10)
		scale := r.Intn(25)
		want := string(appendScaled(nil, n, scale))
		got, err := decodeNumericBinary(appendNumericBinary(nil, n, scale))
		if err != nil || got != want {
			t.Fatalf("%s × 10^-%d: decoded %q (%v), want %q", n, scale, got, err, want)
		}
		via, err := appendBinary(nil, oidNumeric, sluice.Decimal{V: decimal128.FromBigInt(n), Precision: 38, Scale: int32(scale)})
		if err != nil || numericHex(via) != numericHex(appendNumericBinary(nil, n, scale)) {
			t.Fatalf("appendBinary of a sluice.Decimal differs: %v", err)
		}
	}
}

func TestNumericBinaryDecodeSpecialsAndErrors(t *testing.T) {
	for h, want := range map[string]string{
		"00000000c0000000": "NaN",
		"00000000d0000000": "Infinity",
		"00000000f0000000": "-Infinity",
		"0000000000000003": "0.000",
		// Digits past dscale are truncated, as numeric_recv truncates
		// them: 1.2345 sent with dscale 2.
		"000200000000000200010929": "1.23",
	} {
		b, _ := hex.DecodeString(h)
		got, err := decodeNumericBinary(b)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", h, got, err, want)
		}
	}
	for _, h := range []string{
		"", "000100000000", "0002000000000000ffff", "000100000000000000",
		"0001000012340000" + "0001", // not a sign Postgres writes
		"0001000000000000" + "2710", // a base-10000 digit of 10000
	} {
		b, _ := hex.DecodeString(h)
		if _, err := decodeNumericBinary(b); err == nil {
			t.Errorf("%q: decoded a malformed numeric", h)
		}
	}
}

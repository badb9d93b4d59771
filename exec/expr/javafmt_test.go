package expr

import "testing"

var pointOne, pointTwo = 0.1, 0.2

func TestFormatDouble(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {0, "0.0"}, {-1.5, "-1.5"}, {pointOne + pointTwo, "0.30000000000000004"},
		{1e7, "1.0E7"}, {9999999, "9999999.0"}, {1e-3, "0.001"}, {1e-4, "1.0E-4"},
		{1.7976931348623157e308, "1.7976931348623157E308"}, {4.9e-324, "4.9E-324"},
		{123456.789, "123456.789"}, {1.2345e10, "1.2345E10"}, {100, "100.0"},
		// Whole numbers in [2^54, 2^63): the pre-19 JDK's integer path.
		{1 << 62, "4.6116860184273879E18"}, {-(1 << 62), "-4.6116860184273879E18"},
		{1 << 54, "1.8014398509481984E16"}, {1e17, "1.0E17"}, {3.0744573456182584e18, "3.0744573456182584E18"},
	} {
		if got := FormatDouble(c.f); got != c.want {
			t.Errorf("FormatDouble(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

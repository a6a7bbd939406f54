package resp

import (
	"math"
	"math/big"
	"testing"
)

// Expected strings below were produced by redis-server 7.0.15.

func TestFormatScore(t *testing.T) {
	tests := []struct {
		in   float64
		want string // ZADD z <in> m; ZSCORE z m
	}{
		{0.1, "0.10000000000000001"},
		{1, "1"},
		{1.5, "1.5"},
		{2.5, "2.5"},
		{0.3, "0.29999999999999999"},
		{1.1, "1.1000000000000001"}, // ZINCRBY z 1 m on 0.1
		{3.0e3, "3000"},
		{1e16, "10000000000000000"},
		{1e17, "1e+17"},
		{1e20, "1e+20"},
		{1e-5, "1.0000000000000001e-05"},
		{123456789012345678, "1.2345678901234568e+17"},
		{5e-324, "4.9406564584124654e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{-1e-300, "-1e-300"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	}
	for _, tt := range tests {
		if got := FormatScore(tt.in); got != tt.want {
			t.Errorf("FormatScore(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string // SET k <in>; INCRBYFLOAT k 0
	}{
		{10.5 + 0.1, "10.6"}, // SET k 10.5; INCRBYFLOAT k 0.1
		{3.0e3, "3000"},
		{1.5e-5, "0.000015"},
		{5000.1, "5000.10000000000000009"},
		{1e-20, "0"},
		{-1e-20, "0"},
		{math.Copysign(0, -1), "0"},
		{0.1, "0.1"},
		{1e20 + 1, "100000000000000000000"},
		{-2.5, "-2.5"},
		{1.23e-17, "0.00000000000000001"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	}
	for _, tt := range tests {
		if got := FormatFloat(tt.in); got != tt.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAppendLongDouble does INCRBYFLOAT's arithmetic the way Redis does on
// x86-64 (80-bit long double: 64-bit mantissa) and checks the text.
func TestAppendLongDouble(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"10.5", "0.1", "10.6"},
		{"0.1", "0.2", "0.3"}, // float64 would give 0.30000000000000004
		{"1.1", "2.2", "3.3"},
		{"5000.1", "0", "5000.10000000000000009"},
		{"123456789.123", "0.001", "123456789.12399999999615829"},
		{"1e20", "1", "100000000000000000000"},
		{"3.0e3", "0", "3000"},
		{"1.5e-5", "0", "0.000015"},
		{"-1e-20", "0", "0"},
		{"0", "-0", "0"},
	}
	for _, tt := range tests {
		a, _, err1 := big.ParseFloat(tt.a, 10, 64, big.ToNearestEven)
		b, _, err2 := big.ParseFloat(tt.b, 10, 64, big.ToNearestEven)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		sum := new(big.Float).SetPrec(64).Add(a, b)
		if got := string(AppendLongDouble(nil, sum)); got != tt.want {
			t.Errorf("%s + %s = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
	if got := string(AppendLongDouble(nil, new(big.Float).SetInf(true))); got != "-inf" {
		t.Errorf("-inf: %q", got)
	}
}

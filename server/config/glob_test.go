package config

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		{"*", "anything", false, true},
		{"*", "", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"a", "", false, false},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "heeeello", false, true},
		{"h*llo", "hllo", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hallo", false, true}, // reversed range
		{"h[a-b]llo", "hcllo", false, false},
		{`h\*llo`, "h*llo", false, true},
		{`h\*llo`, "hello", false, false},
		{`h\[llo`, "h[llo", false, true},
		{`trailing\`, `trailing\`, false, true},
		{"[abc", "a", false, true}, // unterminated class ends with the pattern
		{"[abc", "ab", false, false},
		{"[a-]", "]", false, true}, // Redis reads "a-]" as a range
		{`[\]]`, "]", false, true},
		{`[\-]`, "-", false, true},
		{"[]", "a", false, false},
		{"[^]", "a", false, true},
		{"PORT", "port", true, true},
		{"PORT", "port", false, false},
		{"[A-Z]ort", "port", true, true},
		{"[P]ort", "port", true, true},
		{`[\P]ort`, "port", true, false}, // escaped class bytes are case-sensitive
		{`\Port`, "port", true, true},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"*a", "ba", false, true},
		{"**a**", "a", false, true},
		{"a**", "a", false, true},
		{"*?", "", false, false},
		{"*.conf", "node.conf", false, true},
		{"user:*:name", "user:42:name", false, true},
		{"user:*:name", "user:42:nam", false, false},
	}
	for _, tt := range tests {
		if got := GlobMatch(tt.pattern, tt.s, tt.nocase); got != tt.want {
			t.Errorf("GlobMatch(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.nocase, got, tt.want)
		}
	}
}

// redisMatch is a direct recursive model of Redis's stringmatchlen, used as
// the oracle for randomized comparison (exponential, so only short inputs).
func redisMatch(p, s string, nocase bool) bool {
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if redisMatch(p[1:], s, nocase) {
					return true
				}
				s = s[1:]
			}
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) >= 2 && p[0] == '\\' {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if len(p) > 0 && p[0] == ']' {
					break
				} else if len(p) == 0 {
					p = " " // the caller's p = p[1:] below lands on the end
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi, c := p[0], p[2], s[0]
					if lo > hi {
						lo, hi = hi, lo
					}
					if nocase {
						lo, hi, c = lower(lo), lower(hi), lower(c)
					}
					p = p[2:]
					if c >= lo && c <= hi {
						match = true
					}
				} else if eqByte(p[0], s[0], nocase) {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if !eqByte(p[0], s[0], nocase) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

func TestGlobMatchAgainstRedisModel(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	const pchars = `ab*?[]^-\A`
	const schars = `ab]-^\A`
	gen := func(alpha string, n int) string {
		b := make([]byte, r.Intn(n+1))
		for i := range b {
			b[i] = alpha[r.Intn(len(alpha))]
		}
		return string(b)
	}
	for i := 0; i < 200000; i++ {
		p, s := gen(pchars, 8), gen(schars, 8)
		if s == "" {
			continue // the one documented difference: Redis never matches ""
		}
		nocase := i%2 == 0
		if got, want := GlobMatch(p, s, nocase), redisMatch(p, s, nocase); got != want {
			t.Fatalf("GlobMatch(%q, %q, %v) = %v, Redis says %v", p, s, nocase, got, want)
		}
	}
}

func TestGlobMatchPathological(t *testing.T) {
	pattern := strings.Repeat("a*", 40) + "b"
	s := strings.Repeat("a", 5000)
	start := time.Now()
	if GlobMatch(pattern, s, false) {
		t.Fatal("unexpected match")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("pathological pattern took %v", d)
	}
}

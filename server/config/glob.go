package config

// GlobMatch reports whether s matches the Redis glob pattern: '*' any run of
// bytes, '?' any byte, '[abc]' '[a-z]' '[^x]' classes, '\' escaping the next
// byte. Matching is bytewise; nocase folds ASCII letters. The server uses it
// for CONFIG GET, KEYS, SCAN MATCH and PSUBSCRIBE.
//
// Every pattern element other than '*' consumes exactly one byte, so only the
// most recent '*' ever needs to be retried: the loop below backtracks to it
// alone, bounding the work to O(len(pattern)*len(s)) where Redis's recursive
// matcher can take exponential time.
//
// Quirks kept from Redis: an unterminated '[' class runs to the end of the
// pattern, "[a-]" is a range from 'a' to ']', reversed ranges work, and an
// escaped byte inside a class is compared case-sensitively. One deliberate
// difference: '*' matches the empty string (Redis never matches an empty
// subject, except through its "*" shortcuts).
func GlobMatch(pattern, s string, nocase bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for {
		if i == len(s) {
			for p < len(pattern) && pattern[p] == '*' {
				p++
			}
			if p == len(pattern) {
				return true
			}
		} else if p < len(pattern) {
			if pattern[p] == '*' {
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				starP, starI = p, i
				continue
			}
			if ok, next := matchOne(pattern, p, s[i], nocase); ok {
				p, i = next, i+1
				continue
			}
		}
		// Mismatch: let the last '*' swallow one more byte and retry.
		if starP < 0 || starI >= len(s) {
			return false
		}
		starI++
		p, i = starP, starI
	}
}

// matchOne matches the single pattern element at pattern[p] against c and
// returns the index of the next element.
func matchOne(pattern string, p int, c byte, nocase bool) (bool, int) {
	n := len(pattern)
	switch pattern[p] {
	case '?':
		return true, p + 1
	case '\\':
		if p+1 < n {
			return eqByte(pattern[p+1], c, nocase), p + 2
		}
		return eqByte('\\', c, nocase), p + 1
	case '[':
		p++
		not := p < n && pattern[p] == '^'
		if not {
			p++
		}
		match := false
		for {
			if p >= n {
				// Unterminated class: it ends with the pattern.
				break
			}
			if pattern[p] == '\\' && p+1 < n {
				if pattern[p+1] == c {
					match = true
				}
				p += 2
				continue
			}
			if pattern[p] == ']' {
				p++
				break
			}
			if p+2 < n && pattern[p+1] == '-' {
				lo, hi, x := pattern[p], pattern[p+2], c
				if lo > hi {
					lo, hi = hi, lo
				}
				if nocase {
					lo, hi, x = lower(lo), lower(hi), lower(x)
				}
				if x >= lo && x <= hi {
					match = true
				}
				p += 3
				continue
			}
			if eqByte(pattern[p], c, nocase) {
				match = true
			}
			p++
		}
		return match != not, p
	}
	return eqByte(pattern[p], c, nocase), p + 1
}

func eqByte(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

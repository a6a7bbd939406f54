package resp

import "bytes"

// Inline requests ("PING\r\n", typed into telnet or sent by old clients) are
// split the way Redis's sdssplitargs does, because redis-cli users and test
// suites rely on its exact quoting rules:
//
//   - arguments are separated by whitespace;
//   - "double quotes" understand \n \r \t \b \a, \xHH and \<any> escapes;
//   - 'single quotes' understand only \';
//   - a quote may start in the middle of a word (a"b c" is "ab c"), but a
//     closing quote must be followed by whitespace or the end of the line.
//
// sdssplitargs works on a C string, so a NUL byte ends the line. (Redis
// itself never gets that far: it searches for the newline with strchr and so
// waits forever on such a line; we just drop the rest of the line.)

// isSpace is C's isspace in the "C" locale, used to skip blanks between
// arguments and to check what follows a closing quote. Note that unquoted
// arguments end only at ' ', '\t', '\r' and '\n', so '\v' and '\f' inside a
// word are kept, as in Redis.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// blankLine reports whether splitArgs would find no argument in line.
func blankLine(line []byte) bool {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	for _, c := range line {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// splitArgs appends the arguments of an inline line to dst. It unescapes in
// place: output never outruns input, so each argument is written over the
// bytes it came from and points into line, which costs no allocation.
func splitArgs(dst [][]byte, line []byte) ([][]byte, error) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	n := len(line)
	i := 0
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i == n {
			return dst, nil
		}
		start, w := i, i
		inDouble, inSingle := false, false
	word:
		for {
			switch {
			case inDouble:
				if i == n {
					return dst, errUnbalanced
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < n && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					line[w] = unhex(line[i+2])<<4 | unhex(line[i+3])
					i += 4
				case c == '\\' && i+1 < n:
					switch e := line[i+1]; e {
					case 'n':
						line[w] = '\n'
					case 'r':
						line[w] = '\r'
					case 't':
						line[w] = '\t'
					case 'b':
						line[w] = '\b'
					case 'a':
						line[w] = '\a'
					default:
						line[w] = e
					}
					i += 2
				case c == '"':
					if i+1 < n && !isSpace(line[i+1]) {
						return dst, errUnbalanced
					}
					i++
					break word
				default:
					line[w] = c
					i++
				}
				w++
			case inSingle:
				if i == n {
					return dst, errUnbalanced
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < n && line[i+1] == '\'':
					line[w] = '\''
					i += 2
				case c == '\'':
					if i+1 < n && !isSpace(line[i+1]) {
						return dst, errUnbalanced
					}
					i++
					break word
				default:
					line[w] = c
					i++
				}
				w++
			default:
				if i == n {
					break word
				}
				switch c := line[i]; c {
				case ' ', '\t', '\r', '\n':
					i++
					break word
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					line[w] = c
					w++
				}
				i++
			}
		}
		dst = append(dst, line[start:w:w])
	}
}

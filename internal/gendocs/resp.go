package main

import (
	"fmt"
	"strconv"
	"strings"
)

// respError is an error reply (-ERR ...).
type respError string

// parseReply decodes one RESP2 reply, the form a fresh test client gets:
// strings (simple and bulk) become string, integers int64, errors
// respError, nulls nil and arrays []any. rest is what follows the reply.
func parseReply(s string) (v any, rest string, err error) {
	line, rest, ok := strings.Cut(s, "\r\n")
	if !ok || line == "" {
		return nil, s, fmt.Errorf("truncated reply %q", s)
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, rest, nil
	case '-':
		return respError(body), rest, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		return n, rest, err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, s, err
		}
		if n < 0 {
			return nil, rest, nil
		}
		if len(rest) < n+2 {
			return nil, s, fmt.Errorf("truncated bulk string")
		}
		return rest[:n], rest[n+2:], nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, s, err
		}
		if n < 0 {
			return nil, rest, nil
		}
		arr := make([]any, n)
		for i := range arr {
			if arr[i], rest, err = parseReply(rest); err != nil {
				return nil, s, err
			}
		}
		return arr, rest, nil
	}
	return nil, s, fmt.Errorf("unexpected reply type %q", line[0])
}

// pairs reads a flattened RESP2 map (key, value, key, value, ...).
func pairs(v any) map[string]any {
	arr, _ := v.([]any)
	m := make(map[string]any, len(arr)/2)
	for i := 0; i+1 < len(arr); i += 2 {
		if k, ok := arr[i].(string); ok {
			m[k] = arr[i+1]
		}
	}
	return m
}

func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

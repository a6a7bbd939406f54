package server

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"
)

// Replies are appended to c.out; the connection loop flushes once per
// pipelined batch. RESP3-only types degrade to their RESP2 forms as Redis
// does (maps become flat arrays, doubles bulk strings, nulls $-1 or *-1).

func (c *Client) addRaw(b []byte)    { c.out = append(c.out, b...) }
func (c *Client) addOK()             { c.out = append(c.out, "+OK\r\n"...) }
func (c *Client) addSimple(s string) { c.out = redcon.AppendString(c.out, s) }
func (c *Client) addInt(n int64)     { c.out = redcon.AppendInt(c.out, n) }
func (c *Client) addBulk(b []byte) {
	// Short values (most list elements, members, small strings) get their
	// header written by hand: LRANGE-style replies are made of little else.
	if n := len(b); n < 10 {
		c.out = append(c.out, '$', byte('0'+n), '\r', '\n')
		c.out = append(c.out, b...)
		c.out = append(c.out, '\r', '\n')
		return
	}
	c.out = redcon.AppendBulk(c.out, b)
}
func (c *Client) addBulkString(s string) { c.out = redcon.AppendBulkString(c.out, s) }
func (c *Client) addBulkInt(n int64) {
	c.out = redcon.AppendBulkString(c.out, strconv.FormatInt(n, 10))
}

// addError writes an error reply. msg is Redis's full text, code included
// ("ERR ...", "WRONGTYPE ..."); newlines would break the protocol, so they
// are replaced like Redis does.
func (c *Client) addError(msg string) {
	c.out = append(c.out, '-')
	for i := 0; i < len(msg); i++ {
		ch := msg[i]
		if ch == '\r' || ch == '\n' {
			ch = ' '
		}
		c.out = append(c.out, ch)
	}
	c.out = append(c.out, '\r', '\n')
	c.errored = true
	c.s.countErrorReply(msg)
}

func (c *Client) addLen(prefix byte, n int) {
	c.out = append(c.out, prefix)
	c.out = strconv.AppendInt(c.out, int64(n), 10)
	c.out = append(c.out, '\r', '\n')
}

func (c *Client) addArrayLen(n int) { c.addLen('*', n) }

// addMapLen announces n key/value pairs.
func (c *Client) addMapLen(n int) {
	if c.proto >= 3 {
		c.addLen('%', n)
	} else {
		c.addLen('*', 2*n)
	}
}

// addSetLen announces a set of n members.
func (c *Client) addSetLen(n int) {
	if c.proto >= 3 {
		c.addLen('~', n)
	} else {
		c.addLen('*', n)
	}
}

// addPushLen announces an out-of-band push message (pub/sub).
func (c *Client) addPushLen(n int) {
	if c.proto >= 3 {
		c.addLen('>', n)
	} else {
		c.addLen('*', n)
	}
}

// addNull is the null bulk string (RESP3: null).
func (c *Client) addNull() {
	if c.proto >= 3 {
		c.out = append(c.out, "_\r\n"...)
	} else {
		c.out = append(c.out, "$-1\r\n"...)
	}
}

// addNullArray is the null array (RESP3: null).
func (c *Client) addNullArray() {
	if c.proto >= 3 {
		c.out = append(c.out, "_\r\n"...)
	} else {
		c.out = append(c.out, "*-1\r\n"...)
	}
}

func (c *Client) addBool(b bool) {
	if c.proto >= 3 {
		if b {
			c.out = append(c.out, "#t\r\n"...)
		} else {
			c.out = append(c.out, "#f\r\n"...)
		}
		return
	}
	if b {
		c.addInt(1)
	} else {
		c.addInt(0)
	}
}

// addDouble writes a double: RESP3 ',' type, RESP2 a bulk string, both in
// Redis's %.17g form.
func (c *Client) addDouble(f float64) {
	s := formatDouble(f)
	if c.proto >= 3 {
		c.out = append(c.out, ',')
		c.out = append(c.out, s...)
		c.out = append(c.out, '\r', '\n')
		return
	}
	c.addBulkString(s)
}

// addVerbatim writes a RESP3 verbatim string (txt), a bulk string in RESP2.
func (c *Client) addVerbatim(s string) {
	if c.proto >= 3 {
		c.addLen('=', len(s)+4)
		c.out = append(c.out, "txt:"...)
		c.out = append(c.out, s...)
		c.out = append(c.out, '\r', '\n')
		return
	}
	c.addBulkString(s)
}

func (c *Client) addBulks(items [][]byte) {
	c.addArrayLen(len(items))
	for _, it := range items {
		c.addBulk(it)
	}
}

func (c *Client) addBulkStrings(items []string) {
	c.addArrayLen(len(items))
	for _, it := range items {
		c.addBulkString(it)
	}
}

// formatDouble renders a double like Redis 7.0's addReplyDouble (%.17g),
// with inf/-inf/nan spelled as Redis spells them.
func formatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// apply parses args and stores them into c. args are already split; a
// directive that is not multi always gets exactly one.
func (d *directive) apply(c *Config, args []string) *argError {
	if d.set != nil {
		if err := d.set(c, args); err != nil {
			return err
		}
		if d.after != nil {
			d.after(c)
		}
		return nil
	}
	var v any
	var err *argError
	switch d.kind {
	case KindBool:
		v, err = d.parseBool(args[0])
	case KindInt:
		v, err = d.parseInt(args[0])
	case KindMemory:
		v, err = d.parseMemory(args[0])
	case KindOctal:
		v, err = d.parseOctal(args[0])
	case KindString:
		v = args[0]
	case KindEnum:
		v, err = d.parseEnum(args)
	default:
		panic("config: directive without a setter: " + d.name)
	}
	if err != nil {
		return err
	}
	if d.check != nil {
		if err := d.check(v); err != nil {
			if err.got == "" {
				err.got = strings.Join(args, " ")
			}
			return err
		}
	}
	switch p := d.field(c).(type) {
	case *bool:
		*p = v.(bool)
	case *string:
		*p = v.(string)
	case *int64:
		*p = v.(int64)
	case *int:
		n := v.(int64)
		if int64(int(n)) != n { // only on 32-bit platforms with maxclients > 2^31
			return d.rangeError(args[0])
		}
		*p = int(n)
	default:
		panic(fmt.Sprintf("config: directive %s has field of type %T", d.name, p))
	}
	if d.after != nil {
		d.after(c)
	}
	return nil
}

// render gives the CONFIG GET form of the directive's current value.
func (d *directive) render(c *Config) string {
	if d.get != nil {
		return d.get(c)
	}
	switch p := d.field(c).(type) {
	case *bool:
		return yesNo(*p)
	case *string:
		return *p
	case *int:
		if d.kind == KindOctal {
			return strconv.FormatInt(int64(*p), 8)
		}
		return strconv.Itoa(*p)
	case *int64:
		if d.kind == KindMemory && d.percent && *p < 0 {
			return strconv.FormatInt(-*p, 10) + "%"
		}
		if d.kind == KindOctal {
			return strconv.FormatInt(*p, 8)
		}
		return strconv.FormatInt(*p, 10)
	}
	panic("config: cannot render " + d.name)
}

// rewriteLines gives the lines CONFIG REWRITE writes for the directive.
func (d *directive) rewriteLines(c, def *Config) []rwLine {
	if d.lines != nil {
		return d.lines(c, def)
	}
	cur := d.render(c)
	force := cur != d.render(def)
	val := cur
	switch d.kind {
	case KindString:
		if cur == "" && d.def == "" {
			return nil // absent means empty; drop stale lines
		}
		val = Quote(cur)
	case KindMemory:
		if n := *d.field(c).(*int64); n >= 0 {
			val = formatMemory(n)
		}
	}
	return []rwLine{{text: d.name + " " + val, force: force}}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (d *directive) parseBool(s string) (bool, *argError) {
	switch strings.ToLower(s) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, &argError{reply: "argument must be 'yes' or 'no'", want: "yes or no", got: s}
}

func (d *directive) rangeError(s string) *argError {
	return &argError{
		reply: fmt.Sprintf("argument must be between %d and %d inclusive", d.min, d.max),
		want:  fmt.Sprintf("an integer between %d and %d", d.min, d.max),
		got:   s,
	}
}

func (d *directive) parseInt(s string) (int64, *argError) {
	n, ok := parseStrictInt(s)
	if !ok {
		e := d.rangeError(s)
		e.reply = "argument couldn't be parsed into an integer"
		return 0, e
	}
	if n < d.min || n > d.max {
		return 0, d.rangeError(s)
	}
	return n, nil
}

func (d *directive) parseMemory(s string) (int64, *argError) {
	n, ok := parseMemory(s)
	if !ok && d.percent && len(s) > 1 && s[len(s)-1] == '%' {
		if p, pok := parseStrictInt(s[:len(s)-1]); pok && p >= 0 {
			n, ok = -p, true
		}
	}
	if !ok {
		e := &argError{reply: "argument must be a memory value", want: "a memory size like 4096, 64kb, 100mb or 1gb", got: s}
		if d.percent {
			e.reply = "argument must be a memory or percent value"
			e.want = "a memory size like 100mb or a percentage like 10%"
		}
		return 0, e
	}
	if n < 0 && d.percent {
		if n < d.min {
			return 0, &argError{
				reply: fmt.Sprintf("percentage argument must be less or equal to %d", -d.min),
				want:  fmt.Sprintf("a percentage of at most %d%%", -d.min), got: s,
			}
		}
		return n, nil
	}
	if n < max(d.min, 0) || n > d.max {
		return 0, &argError{
			reply: fmt.Sprintf("argument must be between %d and %d inclusive", max(d.min, 0), d.max),
			want:  fmt.Sprintf("a memory size between %d and %d bytes", max(d.min, 0), d.max), got: s,
		}
	}
	return n, nil
}

func (d *directive) parseOctal(s string) (int64, *argError) {
	n, err := strconv.ParseInt(s, 8, 64)
	if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, &argError{reply: "argument couldn't be parsed as an octal number",
			want: fmt.Sprintf("an octal number between %o and %o", d.min, d.max), got: s}
	}
	if n < d.min || n > d.max {
		return 0, &argError{reply: fmt.Sprintf("argument must be between %o and %o inclusive", d.min, d.max),
			want: fmt.Sprintf("an octal number between %o and %o", d.min, d.max), got: s}
	}
	return n, nil
}

// parseEnum matches case-insensitively and stores the canonical spelling.
// Multi enums are flag sets (shutdown-on-sig*): "default" is the empty set
// and the stored form lists flags in table order.
func (d *directive) parseEnum(args []string) (string, *argError) {
	bad := &argError{
		reply: "argument(s) must be one of the following: " + strings.Join(d.values, ", "),
		want:  "one of " + strings.Join(d.values, ", "),
		got:   strings.Join(args, " "),
	}
	if len(args) == 0 || (!d.multi && len(args) != 1) {
		return "", bad
	}
	set := make([]bool, len(d.values))
	for _, a := range args {
		found := false
		for i, v := range d.values {
			if strings.EqualFold(a, v) {
				set[i], found = true, true
			}
		}
		if !found {
			return "", bad
		}
	}
	if !d.multi {
		for i, on := range set {
			if on {
				return d.values[i], nil
			}
		}
	}
	var names []string
	for i, on := range set {
		if on && d.values[i] != "default" {
			names = append(names, d.values[i])
		}
	}
	if len(names) == 0 {
		return "default", nil
	}
	if set[1] && set[2] && d.values[1] == "save" && d.values[2] == "nosave" {
		return "", &argError{reply: "shutdown options SAVE and NOSAVE can't be used simultaneously", got: bad.got}
	}
	return strings.Join(names, " "), nil
}

// parseStrictInt accepts exactly what Redis's string2ll accepts: an optional
// minus sign and digits without leading zeros, within int64.
func parseStrictInt(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseMemory parses a byte count with Redis's units: k=1000, kb=1024,
// m=1000², mb=1024², g=1000³, gb=1024³ (case-insensitive, optional "b").
func parseMemory(s string) (int64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, false
	}
	return int64(n * mul), true
}

// formatMemory writes a byte count the shortest exact way, as CONFIG
// REWRITE does, so rewritten files stay readable.
func formatMemory(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "gb"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "mb"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "kb"
	}
	return strconv.FormatInt(n, 10)
}

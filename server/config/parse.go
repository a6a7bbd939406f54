package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxIncludeDepth bounds nesting so a pathological chain of distinct files
// (which the loop check would not catch) cannot exhaust the stack.
const maxIncludeDepth = 32

// SplitArgs splits a line into arguments exactly like Redis's sdssplitargs,
// which redis.conf, inline commands and redis-cli share: whitespace separates
// arguments; "double quotes" understand \n \r \t \b \a \xHH and \<char>;
// 'single quotes' understand only \'. A closing quote must be followed by
// whitespace or the end of the line. ok is false on unbalanced quotes.
func SplitArgs(line string) (args []string, ok bool) {
	// The C original stops at NUL; doing the same keeps files that load in
	// Redis loading here identically.
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	n := len(line)
	at := func(i int) byte {
		if i < n {
			return line[i]
		}
		return 0
	}
	args = []string{}
	p := 0
	for {
		for p < n && isCSpace(line[p]) {
			p++
		}
		if p >= n {
			return args, true
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			ch := at(p)
			switch {
			case inq:
				switch {
				case ch == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					cur = append(cur, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				case ch == '\\' && at(p+1) != 0:
					p++
					switch e := line[p]; e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case ch == '"':
					if next := at(p + 1); next != 0 && !isCSpace(next) {
						return nil, false
					}
					done = true
				case ch == 0:
					return nil, false
				default:
					cur = append(cur, ch)
				}
			case insq:
				switch {
				case ch == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case ch == '\'':
					if next := at(p + 1); next != 0 && !isCSpace(next) {
						return nil, false
					}
					done = true
				case ch == 0:
					return nil, false
				default:
					cur = append(cur, ch)
				}
			default:
				switch ch {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, ch)
				}
			}
			if p < n {
				p++
			}
		}
		args = append(args, string(cur))
	}
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// Quote renders s as a double-quoted argument that SplitArgs reads back
// unchanged (Redis's sdscatrepr).
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quoteIfNeeded keeps plain words plain so rewritten files look hand-written.
func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
			return Quote(s)
		}
	}
	return s
}

// loader applies configuration sources, in order, to one Config.
type loader struct {
	cfg       *Config
	stack     []string // absolute paths of the files being read, for loop detection
	saveSeen  bool     // a save line was already applied in the current source
	noInclude bool     // refuse include (fuzzing must not read arbitrary files)
}

// loadFile reads a file; display is how errors name it.
func (l *loader) loadFile(display, abs string) error {
	for _, p := range l.stack {
		if p == abs {
			chain := append(append([]string(nil), l.stack...), abs)
			return fmt.Errorf("include loop: %s", strings.Join(chain, " -> "))
		}
	}
	if len(l.stack) >= maxIncludeDepth {
		return fmt.Errorf("includes nested deeper than %d files at %s", maxIncludeDepth, display)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return err
	}
	l.stack = append(l.stack, abs)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	return l.loadString(display, filepath.Dir(abs), string(data))
}

// loadString parses file content; dir resolves relative includes.
func (l *loader) loadString(display, dir, content string) error {
	for i, raw := range strings.Split(content, "\n") {
		line := strings.Trim(raw, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		at := func(directive, msg string) *LoadError {
			return &LoadError{File: display, Line: i + 1, Directive: directive, Msg: msg}
		}
		args, ok := SplitArgs(line)
		if !ok {
			return at("", "unbalanced quotes in configuration line")
		}
		if len(args) == 0 {
			continue
		}
		name := strings.ToLower(args[0])
		if name == "include" {
			if err := l.include(display, dir, args[1:]); err != nil {
				if le, ok := err.(*LoadError); ok {
					return le
				}
				return at(name, err.Error())
			}
			continue
		}
		if err := l.directive(name, args[1:]); err != "" {
			return at(name, err)
		}
	}
	return nil
}

func (l *loader) include(display, dir string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("'include' takes one path, got %s", countArgs(len(args)))
	}
	if l.noInclude {
		return fmt.Errorf("'include' is not allowed here")
	}
	target := args[0]
	shown := target
	if !filepath.IsAbs(target) {
		target = filepath.Join(dir, target)
		if display != "" {
			shown = filepath.Join(filepath.Dir(display), shown)
		}
	}
	if abs, err := filepath.Abs(target); err == nil {
		target = abs
	}
	if !strings.ContainsAny(target, "*?[") {
		return l.loadFile(shown, target)
	}
	// A pattern may match nothing, so an empty conf.d is fine, as in Redis.
	matches, err := filepath.Glob(target)
	if err != nil {
		return fmt.Errorf("include %q: %v", args[0], err)
	}
	for _, m := range matches {
		if err := l.loadFile(m, m); err != nil {
			return err
		}
	}
	return nil
}

// loadArgs applies a redis-server style command line. Every "--name" starts
// a directive; the words after it are its arguments. The word right after a
// lone "--name" is always a value, so "--requirepass --secret" works, except
// that "--save" directly followed by another option means save "".
func (l *loader) loadArgs(argv []string) error {
	var cur []string // name then arguments
	flush := func() error {
		if cur == nil {
			return nil
		}
		name := strings.ToLower(cur[0])
		var msg string
		if name == "include" {
			if len(cur) != 2 {
				msg = fmt.Sprintf("'include' takes one path, got %s", countArgs(len(cur)-1))
			} else if err := l.include("", ".", cur[1:]); err != nil {
				if le, ok := err.(*LoadError); ok {
					return le
				}
				msg = err.Error()
			}
		} else {
			msg = l.directive(name, cur[1:])
		}
		if msg != "" {
			return &LoadError{Directive: name, Msg: msg}
		}
		cur = nil
		return nil
	}
	expectValue := false
	for i, a := range argv {
		isOpt := strings.HasPrefix(a, "--") && len(a) > 2
		if isOpt && !expectValue {
			if err := flush(); err != nil {
				return err
			}
			// "--port 6380" as a single word carries its value with it.
			words, ok := SplitArgs(a[2:])
			if !ok || len(words) == 0 {
				return &LoadError{Msg: fmt.Sprintf("cannot parse option %q", a)}
			}
			cur = words
			expectValue = len(words) == 1
			if expectValue && strings.EqualFold(words[0], "save") {
				last := i == len(argv)-1
				if last || (strings.HasPrefix(argv[i+1], "--") && len(argv[i+1]) > 2) {
					cur = append(cur, "")
					expectValue = false
				}
			}
			continue
		}
		if cur == nil {
			return &LoadError{Msg: fmt.Sprintf("unexpected argument %q before any --option", a)}
		}
		cur = append(cur, a)
		expectValue = false
	}
	return flush()
}

// directive applies one parsed line; it returns a human error message or "".
func (l *loader) directive(name string, args []string) string {
	if want, ok := ignored[name]; ok && len(args) == want {
		return ""
	}
	if why, ok := unsupported[name]; ok {
		return why
	}
	d := lookup(name)
	if d == nil {
		return fmt.Sprintf("unknown directive '%s'", name)
	}
	if !d.multi && len(args) != 1 {
		return fmt.Sprintf("'%s' takes one argument (%s), got %s", name, d.argsSynopsis(), countArgs(len(args)))
	}
	if d.multi && len(args) == 0 {
		return fmt.Sprintf("'%s' takes %s, got no arguments", name, d.argsSynopsis())
	}
	if d.multi && len(args) == 1 && args[0] != "" {
		// Lets --save "3600 1 300 100" and save "3600 1" work, as in Redis.
		split, ok := SplitArgs(args[0])
		if !ok {
			return fmt.Sprintf("'%s': unbalanced quotes in '%s'", name, args[0])
		}
		if len(split) == 0 {
			split = []string{""}
		}
		args = split
	}
	var prev []SaveParam
	accumulate := d.name == "save" && l.saveSeen
	if accumulate {
		prev = l.cfg.Save
	}
	if err := d.apply(l.cfg, args); err != nil {
		return err.human(name)
	}
	if d.name == "save" {
		l.saveSeen = true
		if accumulate && len(l.cfg.Save) > 0 {
			l.cfg.Save = append(prev, l.cfg.Save...)
		}
	}
	return ""
}

func countArgs(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", n)
}

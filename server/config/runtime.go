package config

import (
	"errors"
	"fmt"
	"strings"
)

// Get implements CONFIG GET for one pattern: every directive name (canonical
// names and aliases, which Redis 7.0 lists separately) matching the glob,
// case-insensitively, with its value rendered as Redis renders it. A pattern
// without glob characters is a plain lookup, so "databases" yields exactly
// one pair and an alias yields the alias name.
func (c *Config) Get(pattern string) [][2]string {
	if !strings.ContainsAny(pattern, "*?[") {
		name := strings.ToLower(pattern)
		if d := lookup(name); d != nil {
			return [][2]string{{name, d.render(c)}}
		}
		return nil
	}
	var out [][2]string
	for _, d := range table {
		var v string
		rendered := false
		for _, n := range append([]string{d.name}, d.aliases...) {
			if GlobMatch(pattern, n, true) {
				if !rendered {
					v, rendered = d.render(c), true
				}
				out = append(out, [2]string{n, v})
			}
		}
	}
	return out
}

// Set implements CONFIG SET for a client that is not on loopback; see SetFrom.
func (c *Config) Set(pairs [][2]string) (changed []string, err error) {
	return c.SetFrom(pairs, false)
}

// SetFrom implements Redis 7.0's multi-parameter CONFIG SET: every name is
// checked, then every value is applied to a copy, and only if all succeed
// does the copy replace c, so a failed call changes nothing. local says
// whether the client is on loopback, which enable-protected-configs local
// requires for dir and dbfilename.
//
// changed lists, in table order, the canonical names whose value actually
// changed (including side effects such as active-replica turning
// replica-read-only off), so the server can apply them. Errors read exactly
// like Redis's replies without the leading '-'.
func (c *Config) SetFrom(pairs [][2]string, local bool) (changed []string, err error) {
	type item struct {
		d    *directive
		name string // as matched, lower-cased, for Redis's "possibly related" text
		val  string
	}
	items := make([]item, 0, len(pairs))
	for _, p := range pairs {
		d := lookup(p[0])
		if d == nil {
			return nil, fmt.Errorf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", p[0])
		}
		if !d.mutable {
			return nil, setFailed(p[0], "can't set immutable config")
		}
		if d.protected && !allowProtected(c.EnableProtectedConfigs, local) {
			return nil, setFailed(p[0], "can't set protected config")
		}
		for _, it := range items {
			if it.d == d {
				return nil, setFailed(p[0], "duplicate parameter")
			}
		}
		items = append(items, item{d: d, name: strings.ToLower(p[0]), val: p[1]})
	}

	// Validate everything on a copy first (all or nothing), then apply the
	// same changes to c field by field: copying the whole struct back would
	// also rewrite fields no one changed, which other goroutines may be
	// reading.
	argsOf := func(it item) []string {
		if it.d.multi {
			// Redis splits on single spaces here (not with quoting), and an
			// empty value means no arguments.
			if it.val != "" {
				return strings.Split(it.val, " ")
			}
			return nil
		}
		return []string{it.val}
	}
	next := c.Clone()
	for _, it := range items {
		if e := it.d.apply(next, argsOf(it)); e != nil {
			return nil, setFailed(it.name, e.reply)
		}
	}
	for _, d := range table {
		if d.render(c) != d.render(next) {
			changed = append(changed, d.name)
		}
	}
	for _, it := range items {
		// Cannot fail: the same arguments were just accepted on the copy.
		_ = it.d.apply(c, argsOf(it))
	}
	return changed, nil
}

func setFailed(name, why string) error {
	if why == "" {
		return fmt.Errorf("ERR CONFIG SET failed (possibly related to argument '%s')", name)
	}
	return fmt.Errorf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, why)
}

func allowProtected(setting string, local bool) bool {
	return setting == "yes" || (setting == "local" && local)
}

// ErrNoConfigFile is returned by Rewrite when the server started without a
// configuration file.
var ErrNoConfigFile = errors.New("ERR The server is running without a config file")

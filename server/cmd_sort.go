package server

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/keyspace"
)

// SORT and SORT_RO (Redis's sort.c).

func registerSortCommands(t table) {
	t.add(
		&Command{Name: "sort", Proc: sortCmd, Arity: -2, Flags: FlagWrite | FlagDenyOOM,
			FirstKey: 1, LastKey: 1, Step: 1, KeysFn: sortKeys, Group: "generic"},
		// SORT_RO's only key is the sorted one, but Redis still reports it as
		// movablekeys: the KeysFn keeps COMMAND INFO the same.
		&Command{Name: "sort_ro", Proc: sortROCmd, Arity: -2, Flags: FlagReadonly,
			FirstKey: 1, LastKey: 1, Step: 1, KeysFn: func([][]byte) []int { return []int{1} }, Group: "generic"},
	)
}

// sortKeys finds SORT's keys the way Redis's sortGetKeys does: the sorted
// key, plus the argument of the last STORE. Options are skipped by their
// known argument counts, so a GET or BY pattern spelled "store" is not
// taken for a STORE.
func sortKeys(args [][]byte) []int {
	keys := []int{1}
	store := 0
	for i := 2; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "limit":
			i += 2
		case "get", "by":
			i++
		case "store":
			if i+1 < len(args) {
				store = i + 1
			}
		}
	}
	if store > 0 {
		keys = append(keys, store)
	}
	return keys
}

func sortCmd(c *Client)   { sortGeneric(c, false) }
func sortROCmd(c *Client) { sortGeneric(c, true) }

// sortItem is one element being sorted with the value it sorts by.
type sortItem struct {
	elem  []byte
	score float64
	cmp   []byte // ALPHA with BY: the looked-up value (nil when missing)
	has   bool   // cmp was found
}

func sortGeneric(c *Client, readonly bool) {
	var (
		desc, alpha, dontsort bool
		limitStart            int64
		limitCount            int64 = -1
		sortBy, storeKey      []byte
		gets                  [][]byte
	)
	argv := c.argv
	for j := 2; j < len(argv); j++ {
		left := len(argv) - j - 1
		switch opt := strings.ToLower(string(argv[j])); {
		case opt == "asc":
			desc = false
		case opt == "desc":
			desc = true
		case opt == "alpha":
			alpha = true
		case opt == "limit" && left >= 2:
			var ok bool
			if limitStart, ok = c.getInt(argv[j+1]); !ok {
				return
			}
			if limitCount, ok = c.getInt(argv[j+2]); !ok {
				return
			}
			j += 2
		case opt == "store" && left >= 1 && !readonly:
			storeKey = argv[j+1]
			j++
		case opt == "by" && left >= 1:
			sortBy = argv[j+1]
			// A pattern without '*' names no per-element key: nothing to
			// sort by, the native order is kept.
			dontsort = bytes.IndexByte(sortBy, '*') < 0
			j++
		case opt == "get" && left >= 1:
			gets = append(gets, argv[j+1])
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}

	src := c.lookupRead(argv[1])
	if src != nil {
		switch src.Kind() {
		case keyspace.KindList, keyspace.KindSet, keyspace.KindZSet:
		default:
			c.addError(errWrongType)
			return
		}
	}
	if dontsort && src != nil && src.Kind() == keyspace.KindSet && storeKey != nil {
		// A set has no native order to keep: what is stored (and
		// replicated) must not depend on hash table layout.
		dontsort, alpha, sortBy = false, true, nil
	}
	if src != nil {
		if z, ok := src.Obj.(*keyspace.ZSet); ok {
			// Redis converts the sorted set to a skiplist for SORT, for good.
			z.Big = true
		}
	}

	n := int64(0)
	if src != nil {
		switch v := src.Obj.(type) {
		case *keyspace.List:
			n = int64(v.Len())
		case *keyspace.Set:
			n = int64(v.Len())
		case *keyspace.ZSet:
			n = int64(v.Len())
		}
	}
	// LIMIT sanity checks, in Redis's words and order.
	start := min(max(limitStart, 0), n)
	limitCount = min(max(limitCount, -1), n)
	end := n - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	if end >= n {
		end = n - 1
	}

	items := c.sortLoad(src, dontsort, desc, &start, &end)

	if !dontsort {
		convErr := false
		for i := range items {
			it := &items[i]
			byval := it.elem
			if sortBy != nil {
				v, ok := c.sortLookup(sortBy, it.elem)
				if !ok {
					continue
				}
				byval = v
			}
			if alpha {
				if sortBy != nil {
					it.cmp, it.has = byval, true
				}
				continue
			}
			f, ok := sortStrtod(byval)
			if !ok {
				convErr = true
			}
			it.score = f
		}
		if convErr {
			c.addError("ERR One or more scores can't be converted into double")
			return
		}
		byPattern := sortBy != nil
		sort.SliceStable(items, func(a, b int) bool {
			cmp := sortCompare(&items[a], &items[b], alpha, byPattern)
			if desc {
				cmp = -cmp
			}
			return cmp < 0
		})
	}

	var window []sortItem
	if end >= start {
		window = items[start : end+1]
	}
	if storeKey == nil {
		if len(gets) == 0 {
			c.addArrayLen(len(window))
			for _, it := range window {
				c.addBulk(it.elem)
			}
			return
		}
		c.addArrayLen(len(window) * len(gets))
		for _, it := range window {
			for _, g := range gets {
				if v, ok := c.sortLookup(g, it.elem); ok {
					c.addBulk(v)
				} else {
					c.addNull()
				}
			}
		}
		return
	}

	l := keyspace.NewList()
	for _, it := range window {
		if len(gets) == 0 {
			l.PushBack(copyBytes(it.elem))
			continue
		}
		for _, g := range gets {
			v, _ := c.sortLookup(g, it.elem)
			l.PushBack(copyBytes(v)) // a missing value is stored as ""
		}
	}
	s := c.s
	if l.Len() > 0 {
		isNew := c.lookupWrite(storeKey) == nil
		e := s.setKey(c.db, storeKey, nil, false)
		e.Obj = l
		s.modified(c.db, storeKey, e)
		// Redis counts one change per stored element.
		s.stats.dirty += int64(l.Len()) - 1
		s.notify(notifyList, "sortstore", storeKey, c.dbIndex)
		if isNew {
			s.signalReady(c.db, storeKey)
		}
	} else if s.deleteKey(c, c.db, storeKey) {
		s.notify(notifyGeneric, "del", storeKey, c.dbIndex)
	}
	c.addInt(int64(l.Len()))
}

// sortLoad collects the elements to sort. With nothing to sort (BY without
// '*'), a list or sorted set yields just the LIMIT window, in native order
// (reversed for DESC), and start/end are moved to index into it.
func (c *Client) sortLoad(src *keyspace.Entry, dontsort, desc bool, start, end *int64) []sortItem {
	if src == nil {
		return nil
	}
	var items []sortItem
	add := func(b []byte) { items = append(items, sortItem{elem: b}) }
	switch v := src.Obj.(type) {
	case *keyspace.List:
		if !dontsort {
			items = make([]sortItem, 0, v.Len())
			v.Range(false, func(_ int, b []byte) bool { add(b); return true })
			return items
		}
		if *end >= *start {
			n := int64(v.Len())
			for i := *start; i <= *end; i++ {
				idx := i
				if desc {
					idx = n - 1 - i
				}
				add(v.Index(int(idx)))
			}
			*end -= *start
			*start = 0
		}
	case *keyspace.Set:
		items = make([]sortItem, 0, v.Len())
		v.Each(func(m string) bool { add([]byte(m)); return true })
	case *keyspace.ZSet:
		if !dontsort {
			items = make([]sortItem, 0, v.Len())
			v.Dict.Range(func(m string, _ *float64) bool { add([]byte(m)); return true })
			return items
		}
		if *end >= *start {
			n := int(*end - *start + 1)
			var node *keyspace.ZNode
			if desc {
				node = v.ByRank(v.Len() - 1 - int(*start))
			} else {
				node = v.ByRank(int(*start))
			}
			for ; n > 0 && node != nil; n-- {
				add([]byte(node.Member))
				if desc {
					node = node.Prev()
				} else {
					node = node.Next()
				}
			}
		}
		// Redis fixes start/end here even for an empty window.
		*end -= *start
		*start = 0
	}
	return items
}

// sortCompare orders two elements as Redis's sortCompare does (before DESC
// is applied). Numeric ties fall back to comparing the elements, so the
// result does not depend on input order.
func sortCompare(a, b *sortItem, alpha, byPattern bool) int {
	if !alpha {
		switch {
		case a.score > b.score:
			return 1
		case a.score < b.score:
			return -1
		}
		return bytes.Compare(a.elem, b.elem)
	}
	if byPattern {
		switch {
		case !a.has && !b.has:
			return 0
		case !a.has:
			return -1
		case !b.has:
			return 1
		}
		return bytes.Compare(a.cmp, b.cmp)
	}
	return bytes.Compare(a.elem, b.elem)
}

// sortLookup resolves a BY/GET pattern for elem (Redis's
// lookupKeyByPattern): "#" is the element itself; otherwise the first '*'
// is replaced by elem, and "key->field" reads a hash field. A pattern
// without '*', a missing key or a key of the wrong type gives ok=false.
func (c *Client) sortLookup(pattern, elem []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return elem, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	keyPat, field := pattern, []byte(nil)
	if f := bytes.Index(pattern[star+1:], []byte("->")); f >= 0 {
		f += star + 1
		if f+2 < len(pattern) {
			keyPat, field = pattern[:f], pattern[f+2:]
		}
	}
	key := make([]byte, 0, len(keyPat)-1+len(elem))
	key = append(key, keyPat[:star]...)
	key = append(key, elem...)
	key = append(key, keyPat[star+1:]...)
	e := c.lookupRead(key)
	if e == nil {
		return nil, false
	}
	if field != nil {
		h, ok := e.Obj.(*keyspace.Hash)
		if !ok {
			return nil, false
		}
		v := h.GetBytes(field)
		if v == nil {
			return nil, false
		}
		return *v, true
	}
	if e.Obj != nil {
		return nil, false
	}
	return e.Str, true
}

// sortStrtod converts a sort weight as Redis does with strtod: leading
// white space is skipped, the whole rest must be a number (hex included),
// and an empty string is 0. Overflow, underflow to a subnormal or zero,
// and NaN are errors.
func sortStrtod(b []byte) (float64, bool) {
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" {
		return 0, len(b) == 0
	}
	if strings.ContainsRune(s, '_') {
		return 0, false // Go accepts digit separators, strtod does not
	}
	body := strings.TrimLeft(s, "+-")
	if len(body) > 2 && (body[:2] == "0x" || body[:2] == "0X") && !strings.ContainsAny(body, "pP") {
		s += "p0" // strtod's hex floats need no exponent, Go's do
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f {
		return 0, false
	}
	if math.Abs(f) < 0x1p-1022 && !sortZeroDigits(body) {
		return 0, false // ERANGE: the value underflowed
	}
	return f, true
}

// sortZeroDigits says whether a number's mantissa is all zeros (an exact
// zero, which strtod does not report as an underflow).
func sortZeroDigits(s string) bool {
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
		if i := strings.IndexAny(s, "pP"); i >= 0 {
			s = s[:i]
		}
	} else if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	for _, ch := range s {
		if ch != '0' && ch != '.' {
			return false
		}
	}
	return true
}

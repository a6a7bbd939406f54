package activetest

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"
)

// keyState is one key as a client sees it. Reading it takes several
// commands, so it is read only when nothing writes.
type keyState struct {
	exists bool
	typ    string
	str    string
	list   []string
	hash   map[string]string
	set    map[string]bool
	zset   []redis.Z
	expire int64 // PEXPIRETIME: absolute unix ms, -1 for none
}

func readKey(c *redis.Client, key string) (keyState, error) {
	var st keyState
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		return st, err
	}
	if typ == "none" {
		return st, nil
	}
	st.exists, st.typ = true, typ
	switch typ {
	case "string":
		st.str, err = c.Get(ctx, key).Result()
	case "list":
		st.list, err = c.LRange(ctx, key, 0, -1).Result()
	case "hash":
		st.hash, err = c.HGetAll(ctx, key).Result()
	case "set":
		var m []string
		m, err = c.SMembers(ctx, key).Result()
		st.set = map[string]bool{}
		for _, x := range m {
			st.set[x] = true
		}
	case "zset":
		st.zset, err = c.ZRangeWithScores(ctx, key, 0, -1).Result()
	}
	if errors.Is(err, redis.Nil) {
		// Gone between TYPE and the read (expired): report it absent.
		return keyState{}, nil
	}
	if err != nil {
		return st, err
	}
	st.expire, err = c.Do(ctx, "PEXPIRETIME", key).Int64()
	if err != nil {
		return st, err
	}
	if st.expire == -2 {
		return keyState{}, nil
	}
	return st, nil
}

func (s keyState) String() string {
	if !s.exists {
		return "(absent)"
	}
	var v string
	switch s.typ {
	case "string":
		v = fmt.Sprintf("%q", s.str)
	case "list":
		v = fmt.Sprintf("%q", s.list)
	case "hash":
		var kv []string
		for f, x := range s.hash {
			kv = append(kv, fmt.Sprintf("%q=%q", f, x))
		}
		sort.Strings(kv)
		v = "{" + strings.Join(kv, " ") + "}"
	case "set":
		v = fmt.Sprintf("%q", sortedSet(s.set))
	case "zset":
		for _, z := range s.zset {
			v += fmt.Sprintf("%q:%v ", z.Member, z.Score)
		}
	}
	return fmt.Sprintf("%s %s exp=%d", s.typ, v, s.expire)
}

func sortedSet(m map[string]bool) []string {
	var out []string
	for x := range m {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

package server

import (
	"sort"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/config"
)

// Pub/Sub and keyspace notifications.

type pubsubState struct {
	channels map[string]map[*Client]struct{}
	patterns map[string]map[*Client]struct{}
	// shard holds sharded channels (SSUBSCRIBE/SPUBLISH): in a standalone
	// server they are plain channels in a namespace of their own.
	shard map[string]map[*Client]struct{}
	// notifyFlags is notify-keyspace-events parsed.
	notifyFlags int
}

func (p *pubsubState) init() {
	p.channels = map[string]map[*Client]struct{}{}
	p.patterns = map[string]map[*Client]struct{}{}
	p.shard = map[string]map[*Client]struct{}{}
}

// Keyspace notification classes (notify-keyspace-events letters).
const (
	notifyKeyspace = 1 << iota // K
	notifyKeyevent             // E
	notifyGeneric              // g
	notifyString               // $
	notifyList                 // l
	notifySet                  // s
	notifyHash                 // h
	notifyZSet                 // z
	notifyExpired              // x
	notifyEvicted              // e
	notifyStream               // t
	notifyKeyMiss              // m
	notifyModule               // d
	notifyNew                  // n
	notifyAll      = notifyGeneric | notifyString | notifyList | notifySet | notifyHash | notifyZSet | notifyExpired | notifyEvicted | notifyStream | notifyModule
)

func parseNotifyFlags(s string) int {
	f := 0
	for _, ch := range s {
		switch ch {
		case 'A':
			f |= notifyAll
		case 'g':
			f |= notifyGeneric
		case '$':
			f |= notifyString
		case 'l':
			f |= notifyList
		case 's':
			f |= notifySet
		case 'h':
			f |= notifyHash
		case 'z':
			f |= notifyZSet
		case 'x':
			f |= notifyExpired
		case 'e':
			f |= notifyEvicted
		case 'K':
			f |= notifyKeyspace
		case 'E':
			f |= notifyKeyevent
		case 't':
			f |= notifyStream
		case 'm':
			f |= notifyKeyMiss
		case 'd':
			f |= notifyModule
		case 'n':
			f |= notifyNew
		}
	}
	return f
}

// notify publishes a keyspace event, if the configuration asks for it.
func (s *Server) notify(class int, event string, key []byte, db int) {
	f := s.pubsub.notifyFlags
	if f&class == 0 || f&(notifyKeyspace|notifyKeyevent) == 0 {
		return
	}
	dbs := strconv.Itoa(db)
	if f&notifyKeyspace != 0 {
		s.publish("__keyspace@"+dbs+"__:"+string(key), []byte(event))
	}
	if f&notifyKeyevent != 0 {
		s.publish("__keyevent@"+dbs+"__:"+event, key)
	}
}

func registerPubSubCommands(t table) {
	ps := FlagPubSub | FlagNoScript | FlagLoading | FlagStale
	t.add(
		&Command{Name: "subscribe", Proc: subscribeCmd, Arity: -2, Flags: ps, Group: "pubsub"},
		&Command{Name: "unsubscribe", Proc: unsubscribeCmd, Arity: -1, Flags: ps, Group: "pubsub"},
		&Command{Name: "psubscribe", Proc: psubscribeCmd, Arity: -2, Flags: ps, Group: "pubsub"},
		&Command{Name: "punsubscribe", Proc: punsubscribeCmd, Arity: -1, Flags: ps, Group: "pubsub"},
		&Command{Name: "ssubscribe", Proc: ssubscribeCmd, Arity: -2, Flags: ps, FirstKey: 1, LastKey: -1, Step: 1, Group: "pubsub"},
		&Command{Name: "sunsubscribe", Proc: sunsubscribeCmd, Arity: -1, Flags: ps, FirstKey: 1, LastKey: -1, Step: 1, Group: "pubsub"},
		&Command{Name: "spublish", Proc: spublishCmd, Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate, FirstKey: 1, LastKey: 1, Step: 1, Group: "pubsub"},
		&Command{Name: "publish", Proc: publishCmd, Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate, Group: "pubsub"},
		&Command{Name: "pubsub", Arity: -2, Group: "pubsub", Sub: map[string]*Command{
			"channels":      {Proc: pubsubChannelsCmd, Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale},
			"numsub":        {Proc: pubsubNumsubCmd, Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale},
			"numpat":        {Proc: pubsubNumpatCmd, Arity: 2, Flags: FlagPubSub | FlagLoading | FlagStale},
			"shardchannels": {Proc: pubsubShardChannelsCmd, Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale},
			"shardnumsub": {Proc: func(c *Client) {
				// Redis 7.0 answers a flat array here even in RESP3.
				c.addArrayLen(2 * (len(c.argv) - 2))
				for _, a := range c.argv[2:] {
					c.addBulk(a)
					c.addInt(int64(len(c.s.pubsub.shard[string(a)])))
				}
			}, Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale},
			"help": {Proc: func(c *Client) {
				c.addHelp("PUBSUB", []string{
					"CHANNELS [<pattern>]", "    Return the currently active channels matching a <pattern> (default: '*').",
					"NUMPAT", "    Return number of subscriptions to patterns.",
					"NUMSUB [<channel> ...]", "    Return the number of subscribers for the specified channels, excluding", "    pattern subscriptions(default: no channels).",
				})
			}, Arity: 2, Flags: FlagLoading | FlagStale},
		}},
	)
}

func (c *Client) subscriptionCount() int { return len(c.subs) + len(c.psubs) }

func subscribeCmd(c *Client) {
	if c.flags&flagMulti != 0 || c.execing {
		// Redis refuses SUBSCRIBE inside MULTI only in RESP2 contexts that
		// cannot receive pushes; 7.0 allows it. Keep 7.0 behaviour.
	}
	c.startWriter()
	if c.subs == nil {
		c.subs = map[string]struct{}{}
	}
	for _, ch := range c.argv[1:] {
		name := string(ch)
		if _, ok := c.subs[name]; !ok {
			c.subs[name] = struct{}{}
			set := c.s.pubsub.channels[name]
			if set == nil {
				set = map[*Client]struct{}{}
				c.s.pubsub.channels[name] = set
			}
			set[c] = struct{}{}
		}
		c.addPushLen(3)
		c.addBulkString("subscribe")
		c.addBulk(ch)
		c.addInt(int64(c.subscriptionCount()))
	}
}

func psubscribeCmd(c *Client) {
	c.startWriter()
	if c.psubs == nil {
		c.psubs = map[string]struct{}{}
	}
	for _, p := range c.argv[1:] {
		name := string(p)
		if _, ok := c.psubs[name]; !ok {
			c.psubs[name] = struct{}{}
			set := c.s.pubsub.patterns[name]
			if set == nil {
				set = map[*Client]struct{}{}
				c.s.pubsub.patterns[name] = set
			}
			set[c] = struct{}{}
		}
		c.addPushLen(3)
		c.addBulkString("psubscribe")
		c.addBulk(p)
		c.addInt(int64(c.subscriptionCount()))
	}
}

func (s *Server) unsubscribeChannel(c *Client, name string, notify bool) {
	if _, ok := c.subs[name]; ok {
		delete(c.subs, name)
		if set := s.pubsub.channels[name]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(s.pubsub.channels, name)
			}
		}
	}
	if notify {
		c.addPushLen(3)
		c.addBulkString("unsubscribe")
		c.addBulkString(name)
		c.addInt(int64(c.subscriptionCount()))
	}
}

func (s *Server) unsubscribePattern(c *Client, name string, notify bool) {
	if _, ok := c.psubs[name]; ok {
		delete(c.psubs, name)
		if set := s.pubsub.patterns[name]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(s.pubsub.patterns, name)
			}
		}
	}
	if notify {
		c.addPushLen(3)
		c.addBulkString("punsubscribe")
		c.addBulkString(name)
		c.addInt(int64(c.subscriptionCount()))
	}
}

func unsubscribeCmd(c *Client) {
	if len(c.argv) == 1 {
		if len(c.subs) == 0 {
			c.addPushLen(3)
			c.addBulkString("unsubscribe")
			c.addNull()
			c.addInt(int64(c.subscriptionCount()))
			return
		}
		for _, name := range sortedKeys(c.subs) {
			c.s.unsubscribeChannel(c, name, true)
		}
		return
	}
	for _, ch := range c.argv[1:] {
		c.s.unsubscribeChannel(c, string(ch), true)
	}
}

func punsubscribeCmd(c *Client) {
	if len(c.argv) == 1 {
		if len(c.psubs) == 0 {
			c.addPushLen(3)
			c.addBulkString("punsubscribe")
			c.addNull()
			c.addInt(int64(c.subscriptionCount()))
			return
		}
		for _, name := range sortedKeys(c.psubs) {
			c.s.unsubscribePattern(c, name, true)
		}
		return
	}
	for _, p := range c.argv[1:] {
		c.s.unsubscribePattern(c, string(p), true)
	}
}

func (s *Server) pubsubUnsubscribeAll(c *Client) {
	for name := range c.ssubs {
		s.unsubscribeShard(c, name, false)
	}
	for name := range c.subs {
		s.unsubscribeChannel(c, name, false)
	}
	for name := range c.psubs {
		s.unsubscribePattern(c, name, false)
	}
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// publish delivers a message and returns the number of receivers.
func (s *Server) publish(channel string, msg []byte) int {
	n := 0
	for c := range s.pubsub.channels[channel] {
		c.push(func(c *Client) {
			c.addPushLen(3)
			c.addBulkString("message")
			c.addBulkString(channel)
			c.addBulk(msg)
		})
		n++
	}
	for pat, set := range s.pubsub.patterns {
		if !config.GlobMatch(pat, channel, false) {
			continue
		}
		for c := range set {
			c.push(func(c *Client) {
				c.addPushLen(4)
				c.addBulkString("pmessage")
				c.addBulkString(pat)
				c.addBulkString(channel)
				c.addBulk(msg)
			})
			n++
		}
	}
	return n
}

func publishCmd(c *Client) {
	c.addInt(int64(c.s.publish(string(c.argv[1]), c.argv[2])))
}

func pubsubChannelsCmd(c *Client) {
	pat := ""
	if len(c.argv) > 3 {
		c.addError(wrongArity("pubsub|channels"))
		return
	}
	if len(c.argv) == 3 {
		pat = string(c.argv[2])
	}
	var out []string
	for name := range c.s.pubsub.channels {
		if pat == "" || config.GlobMatch(pat, name, false) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	c.addBulkStrings(out)
}

func pubsubNumsubCmd(c *Client) {
	c.addMapLen(len(c.argv) - 2)
	for _, ch := range c.argv[2:] {
		c.addBulk(ch)
		c.addInt(int64(len(c.s.pubsub.channels[string(ch)])))
	}
}

func pubsubNumpatCmd(c *Client) { c.addInt(int64(len(c.s.pubsub.patterns))) }

// addHelp writes a HELP reply in Redis's shape.
func (c *Client) addHelp(name string, lines []string) {
	head := name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
	tail := []string{"HELP", "    Prints this help."}
	c.addArrayLen(1 + len(lines) + len(tail))
	c.addSimple(head)
	for _, l := range lines {
		c.addSimple(l)
	}
	for _, l := range tail {
		c.addSimple(l)
	}
}

var _ = strings.ToLower

func ssubscribeCmd(c *Client) {
	c.startWriter()
	if c.ssubs == nil {
		c.ssubs = map[string]struct{}{}
	}
	for _, ch := range c.argv[1:] {
		name := string(ch)
		if _, ok := c.ssubs[name]; !ok {
			c.ssubs[name] = struct{}{}
			set := c.s.pubsub.shard[name]
			if set == nil {
				set = map[*Client]struct{}{}
				c.s.pubsub.shard[name] = set
			}
			set[c] = struct{}{}
		}
		c.addPushLen(3)
		c.addBulkString("ssubscribe")
		c.addBulk(ch)
		c.addInt(int64(len(c.ssubs)))
	}
}

func (s *Server) unsubscribeShard(c *Client, name string, notify bool) {
	if _, ok := c.ssubs[name]; ok {
		delete(c.ssubs, name)
		if set := s.pubsub.shard[name]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(s.pubsub.shard, name)
			}
		}
	}
	if notify {
		c.addPushLen(3)
		c.addBulkString("sunsubscribe")
		c.addBulkString(name)
		c.addInt(int64(len(c.ssubs)))
	}
}

func sunsubscribeCmd(c *Client) {
	if len(c.argv) == 1 {
		if len(c.ssubs) == 0 {
			c.addPushLen(3)
			c.addBulkString("sunsubscribe")
			c.addNull()
			c.addInt(0)
			return
		}
		for _, name := range sortedKeys(c.ssubs) {
			c.s.unsubscribeShard(c, name, true)
		}
		return
	}
	for _, ch := range c.argv[1:] {
		c.s.unsubscribeShard(c, string(ch), true)
	}
}

func spublishCmd(c *Client) {
	channel, msg := string(c.argv[1]), c.argv[2]
	n := 0
	for sub := range c.s.pubsub.shard[channel] {
		sub.push(func(sub *Client) {
			sub.addPushLen(3)
			sub.addBulkString("smessage")
			sub.addBulkString(channel)
			sub.addBulk(msg)
		})
		n++
	}
	c.addInt(int64(n))
}

func pubsubShardChannelsCmd(c *Client) {
	if len(c.argv) > 3 {
		c.addError(wrongArity("pubsub|shardchannels"))
		return
	}
	var out []string
	for name := range c.s.pubsub.shard {
		if len(c.argv) < 3 || config.GlobMatch(string(c.argv[2]), name, false) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	c.addBulkStrings(out)
}

package server

import (
	"strings"

	"github.com/fluidb/fluidb/server/config"
)

// Server commands: INFO, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, COMMAND, ...

func registerServerCommands(t table) {
	t.add(
		&Command{Name: "config", Arity: -2, Group: "server", Sub: map[string]*Command{
			"get": {Proc: configGetCmd, Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale},
			"set": {Proc: configSetCmd, Arity: -4, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale},
		}},
		&Command{Name: "dbsize", Proc: dbsizeCmd, Arity: 1, Flags: FlagReadonly | FlagFast, Group: "server"},
	)
}

func dbsizeCmd(c *Client) { c.addInt(int64(c.db.Len())) }

func configGetCmd(c *Client) {
	var pairs [][2]string
	seen := map[string]bool{}
	for _, p := range c.argv[2:] {
		for _, kv := range c.s.cfg.Get(string(p)) {
			if !seen[kv[0]] {
				seen[kv[0]] = true
				pairs = append(pairs, kv)
			}
		}
	}
	c.addMapLen(len(pairs))
	for _, kv := range pairs {
		c.addBulkString(kv[0])
		c.addBulkString(kv[1])
	}
}

func configSetCmd(c *Client) {
	if len(c.argv)%2 != 0 {
		c.addError(wrongArity("config|set"))
		return
	}
	var pairs [][2]string
	for i := 2; i < len(c.argv); i += 2 {
		pairs = append(pairs, [2]string{strings.ToLower(string(c.argv[i])), string(c.argv[i+1])})
	}
	if _, err := c.s.cfg.Set(pairs); err != nil {
		c.addError(err.Error())
		return
	}
	c.s.applyConfig()
	c.addOK()
}

// applyConfig pushes runtime-changeable settings into the running server.
func (s *Server) applyConfig() {
	s.pubsub.notifyFlags = parseNotifyFlags(s.cfg.NotifyKeyspaceEvents)
	for _, c := range s.clients {
		if c.rd != nil {
			c.rd.MaxBulkLen = s.cfg.ProtoMaxBulkLen
			c.rd.MaxQueryBuf = s.cfg.ClientQueryBufferLimit
		}
	}
}

func (s *Server) roleName() string { return "master" }

func (s *Server) pubsubOutputLimit() int64 { return 32 << 20 }

func (s *Server) clientsCron() {}

func (s *Server) feedMonitors(c *Client) {}

var _ = config.GlobMatch

package server

import (
	"crypto/subtle"
	"strings"
)

// Connection commands: AUTH, HELLO, PING, ECHO, SELECT, QUIT, RESET.
// CLIENT lives in cmd_client.go.

func registerConnCommands(t table) {
	conn := FlagNoScript | FlagLoading | FlagStale | FlagFast
	t.add(
		&Command{Name: "auth", Proc: authCmd, Arity: -2, Flags: conn | FlagNoAuth | FlagAllowBusy, Group: "connection"},
		&Command{Name: "hello", Proc: helloCmd, Arity: -1, Flags: conn | FlagNoAuth | FlagAllowBusy, Group: "connection"},
		&Command{Name: "ping", Proc: pingCmd, Arity: -1, Flags: FlagFast, Group: "connection"},
		&Command{Name: "echo", Proc: echoCmd, Arity: 2, Flags: FlagFast | FlagLoading | FlagStale, Group: "connection"},
		&Command{Name: "select", Proc: selectCmd, Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Group: "connection"},
		&Command{Name: "quit", Proc: quitCmd, Arity: -1, Flags: conn | FlagNoAuth | FlagAllowBusy, Group: "connection"},
		&Command{Name: "reset", Proc: resetCmd, Arity: 1, Flags: conn | FlagNoAuth | FlagAllowBusy, Group: "connection"},
	)
}

func (s *Server) checkPassword(user, pass string) bool {
	if user != "default" {
		return false
	}
	want := s.cfg.Requirepass
	if want == "" {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(pass)) == 1
}

func authCmd(c *Client) {
	if len(c.argv) > 3 {
		c.addError(errSyntax)
		return
	}
	user, pass := "default", string(c.argv[1])
	if len(c.argv) == 3 {
		user, pass = string(c.argv[1]), string(c.argv[2])
	} else if c.s.cfg.Requirepass == "" {
		c.addError(errAuthNoPass)
		return
	}
	if !c.s.checkPassword(user, pass) {
		c.addError(errWrongPass)
		return
	}
	c.authenticated = true
	c.addOK()
}

func helloCmd(c *Client) {
	args := c.argv[1:]
	ver := c.proto
	if len(args) > 0 {
		v, ok := parseInt(args[0])
		if !ok {
			c.addError("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.addError("NOPROTO unsupported protocol version")
			return
		}
		ver = int(v)
		args = args[1:]
	}
	var setName *string
	for i := 0; i < len(args); i++ {
		opt := strings.ToUpper(string(args[i]))
		switch {
		case opt == "AUTH" && i+2 < len(args):
			if !c.s.checkPassword(string(args[i+1]), string(args[i+2])) {
				c.addError(errWrongPass)
				return
			}
			c.authenticated = true
			i += 2
		case opt == "SETNAME" && i+1 < len(args):
			n := string(args[i+1])
			if !validClientName(n) {
				c.addError("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			setName = &n
			i++
		default:
			c.addError("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
	}
	if !c.authenticated {
		c.addError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if setName != nil {
		c.name = *setName
	}
	c.proto = ver
	c.addMapLen(7)
	c.addBulkString("server")
	c.addBulkString("redis")
	c.addBulkString("version")
	c.addBulkString(RedisVersion)
	c.addBulkString("proto")
	c.addInt(int64(ver))
	c.addBulkString("id")
	c.addInt(int64(c.id))
	c.addBulkString("mode")
	c.addBulkString("standalone")
	c.addBulkString("role")
	c.addBulkString(c.s.roleName())
	c.addBulkString("modules")
	c.addArrayLen(0)
}

func validClientName(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] < '!' || n[i] > '~' {
			return false
		}
	}
	return true
}

func pingCmd(c *Client) {
	if len(c.argv) > 2 {
		c.addError(wrongArity("ping"))
		return
	}
	if c.proto == 2 && c.inPubSub() {
		c.addArrayLen(2)
		c.addBulkString("pong")
		if len(c.argv) == 2 {
			c.addBulk(c.argv[1])
		} else {
			c.addBulkString("")
		}
		return
	}
	if len(c.argv) == 2 {
		c.addBulk(c.argv[1])
		return
	}
	c.addSimple("PONG")
}

func echoCmd(c *Client) { c.addBulk(c.argv[1]) }

func selectCmd(c *Client) {
	n, ok := parseInt(c.argv[1])
	if !ok {
		c.addError("ERR value is not an integer or out of range")
		return
	}
	if n < 0 || n >= int64(len(c.s.dbs)) {
		c.addError(errDBIndex)
		return
	}
	c.selectDB(int(n))
	c.addOK()
}

func quitCmd(c *Client) {
	c.addOK()
	c.flags |= flagCloseAfterReply
}

// resetCmd returns the connection to its initial state (Redis 6.2).
func resetCmd(c *Client) {
	s := c.s
	if c.flags&flagMulti != 0 {
		c.discardTransaction()
	}
	c.unwatchAll()
	s.pubsubUnsubscribeAll(c)
	delete(s.monitors, c)
	c.flags &^= flagMonitor | flagReplyOff | flagReplySkip | flagReplySkipNext | flagNoEvict | flagNoTouch | flagDirtyCAS | flagDirtyExec
	c.selectDB(0)
	c.proto = 2
	c.name = ""
	c.authenticated = !s.requirePass()
	c.addSimple("RESET")
}

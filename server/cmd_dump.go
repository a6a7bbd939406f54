package server

import (
	"errors"
	"strings"

	"github.com/fluidb/fluidb/server/rdb"
)

// DUMP and RESTORE (Redis's cluster.c): a key's value in the RDB value
// encoding, followed by the RDB version and a CRC64, so payloads move
// between fluidb and Redis in both directions.

const (
	errBusyKey     = "BUSYKEY Target key name already exists."
	errBadPayload  = "ERR DUMP payload version or checksum are wrong"
	errBadDumpData = "ERR Bad data format"
)

func dumpCmd(c *Client) {
	e := c.lookupRead(c.argv[1])
	if e == nil {
		c.addNull()
		return
	}
	c.s.persist.dumpEnc.Compress = c.s.cfg.RDBCompression
	p, err := c.s.persist.dumpEnc.Dump(e)
	if err != nil {
		c.addError("ERR " + err.Error())
		return
	}
	c.addBulk(p)
}

func (s *Server) rdbLimits() rdb.Limits {
	return rdb.Limits{
		HashMaxListpackEntries: s.cfg.HashMaxListpackEntries,
		HashMaxListpackValue:   s.cfg.HashMaxListpackValue,
		SetMaxIntsetEntries:    s.cfg.SetMaxIntsetEntries,
		ZSetMaxListpackEntries: s.cfg.ZsetMaxListpackEntries,
		ZSetMaxListpackValue:   s.cfg.ZsetMaxListpackValue,
	}
}

// restoreCmd is RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s]
// [FREQ f], checking things in Redis's order.
func restoreCmd(c *Client) {
	s := c.s
	key := c.argv[1]
	replace, absTTL := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.argv); j++ {
		more := len(c.argv) - j - 1
		switch opt := strings.ToLower(string(c.argv[j])); {
		case opt == "replace":
			replace = true
		case opt == "absttl":
			absTTL = true
		case opt == "idletime" && more >= 1 && freq == -1:
			v, ok := c.getInt(c.argv[j+1])
			if !ok {
				return
			}
			if v < 0 {
				c.addError("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = v
			j++
		case opt == "freq" && more >= 1 && idle == -1:
			v, ok := c.getInt(c.argv[j+1])
			if !ok {
				return
			}
			if v < 0 || v > 255 {
				c.addError("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = v
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}
	existed := c.lookupWrite(key) != nil
	if !replace && existed {
		c.addError(errBusyKey)
		return
	}
	ttl, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	if ttl < 0 {
		c.addError("ERR Invalid TTL value, must be >= 0")
		return
	}
	payload := c.argv[3]
	if err := rdb.VerifyDump(payload, true); err != nil {
		c.addError(errBadPayload)
		return
	}
	v, err := rdb.DecodeDump(payload, s.rdbLimits())
	if err != nil {
		if errors.Is(err, rdb.ErrDumpPayload) {
			c.addError(errBadPayload)
		} else {
			c.addError(errBadDumpData)
		}
		return
	}
	deleted := false
	if replace && existed {
		c.db.Delete(key)
		deleted = true
	}
	if ttl != 0 && !absTTL {
		ttl += s.now
	}
	if ttl != 0 && ttl <= s.now && !s.loading && !s.isReplicaOfMaster() {
		// Already expired: the key is not created; a replaced key is
		// gone, which Redis propagates as a DEL.
		if deleted {
			s.modified(c.db, key, nil)
			s.notify(notifyGeneric, "del", key, c.dbIndex)
			c.rewriteArgvStrings("DEL", string(key))
		}
		c.addOK()
		return
	}
	if ttl != 0 && !absTTL && s.prop.active() {
		// Replayed later, a relative TTL would end later: propagate the
		// absolute time, as Redis does.
		argv := append([][]byte{c.argv[0], key, appendUint(nil, uint64(ttl))}, c.argv[3:]...)
		c.rewriteArgv(append(argv, []byte("ABSTTL"))...)
	}
	v.Expire = ttl
	v.Access = s.lruClock()
	e := s.putEntry(c.db, key, v)
	if s.lfuPolicy() {
		if freq >= 0 {
			e.Freq = uint8(freq)
		}
	} else if idle >= 0 {
		if a := int64(e.Access) - idle; a > 0 {
			e.Access = uint32(a)
		} else {
			e.Access = 0
		}
	}
	s.modified(c.db, key, e)
	s.notify(notifyGeneric, "restore", key, c.dbIndex)
	c.addOK()
}

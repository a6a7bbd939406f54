package server

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/fluidb/fluidb/server/resp"
)

// FuzzDispatch feeds arbitrary bytes through the request reader and the
// command gate, as a connection would. Whatever the bytes, the server must
// neither panic nor hang; every complete request gets a reply.
func FuzzDispatch(f *testing.F) {
	seeds := []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"PING\r\nECHO hello\r\n",
		"MULTI\r\nINCR n\r\nLPUSH n x\r\nEXEC\r\n",
		"SET k v EX 10 NX GET\r\nTTL k\r\nDEL k\r\n",
		"*3000000000\r\n",
		"*2\r\n$3\r\nGET\r\n$999999999999\r\n",
		"HELLO 3\r\nHSET h a 1 b 2\r\nHGETALL h\r\nZADD z 1 a 2 b\r\nZRANGE z 0 -1 WITHSCORES\r\n",
		"SUBSCRIBE c\r\nPING\r\nUNSUBSCRIBE\r\n",
		"BLPOP l 0.01\r\nCONFIG GET *max*\r\n",
		"set \"unbalanced\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	cfg := testConfig(f)
	s, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	s.log.SetOutput(io.Discard)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := s.NewTestClient()
		defer func() {
			s.mu.Lock()
			if c.blocked != nil {
				s.unblock(c, false)
			}
			s.freeClient(c)
			s.mu.Unlock()
		}()
		rd := resp.NewReader(bytes.NewReader(data), 4096)
		for i := 0; i < 200; i++ {
			args, err := rd.ReadCommand()
			if err != nil {
				var pe *resp.ProtocolError
				if !errors.As(err, &pe) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, resp.ErrQueryBufLimit) {
					t.Fatalf("unexpected reader error %v", err)
				}
				return
			}
			s.mu.Lock()
			s.tick()
			before := len(c.out)
			c.process(args)
			replied := len(c.out) > before || c.blocked != nil || c.flags&flagReplyOff != 0
			if c.blocked != nil {
				s.unblock(c, true)
			}
			s.mu.Unlock()
			if !replied {
				t.Fatalf("no reply to %q", args)
			}
			if c.flags&(flagCloseAfterReply|flagCloseASAP) != 0 {
				return
			}
			c.out = c.out[:0]
		}
	})
}

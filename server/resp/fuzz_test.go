package resp

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// oneShot hands out its data in as few reads as the buffer allows and
// counts the reads, so the test can tell whether ReadCommand had to read.
type oneShot struct {
	data  []byte
	reads int
}

func (o *oneShot) Read(p []byte) (int, error) {
	o.reads++
	if len(o.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, o.data)
	o.data = o.data[n:]
	return n, nil
}

type fuzzResult struct {
	cmds [][]string
	err  string
}

// FuzzReader feeds arbitrary bytes through Readers configured differently
// (buffer size, read boundaries, big-argument threshold). It checks that
// nothing panics, that all configurations agree, that every argument comes
// from the input, and that HasPending tells the truth.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\nPING\r\n",
		"set a \"b c\\x41\" 'd\\'e'\r\n\r\n*0\r\n",
		"*1\r\n$9999999999\r\n",
		"*1\r\n$40\r\n0123456789012345678901234567890123456789\r\n",
	} {
		f.Add([]byte(s), uint8(3), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, unauth bool) {
		orig := bytes.Clone(data)

		// The header fast path must agree with the exact one (it is only
		// used where the type byte is already known).
		if ll, adv, ok := quickHeader(data); ok && (data[0] == '*' || data[0] == '$') {
			cr, _ := findCR(data, nil)
			v, ok2 := parseInt(data[1:max(cr, 1)])
			if cr < 0 || !ok2 || v != ll || adv != cr+2 {
				t.Fatalf("quickHeader(%q) = %d, %d; exact path: cr %d, %d, %v", data, ll, adv, cr, v, ok2)
			}
		}

		// Reference run: whole input, default buffer, HasPending checked
		// against whether the next ReadCommand had to read.
		src := &oneShot{data: bytes.Clone(data)}
		r := NewReader(src, 0)
		r.Unauthenticated = unauth
		var ref fuzzResult
		var peeks [][][]string // per command: what Peek saw after it
		pending := true        // before the first read there is nothing, but no claim was made
		first := true
		for {
			before := src.reads
			args, err := r.ReadCommand()
			read := src.reads != before
			if !first && pending == read {
				t.Fatalf("HasPending() = %v but ReadCommand read = %v (after %d commands)", pending, read, len(ref.cmds))
			}
			first = false
			if err != nil {
				ref.err = err.Error()
				break
			}
			if len(args) == 0 {
				t.Fatal("empty command")
			}
			total := 0
			quoted := bytes.ContainsAny(orig, `"'`)
			cmd := make([]string, len(args))
			for i, a := range args {
				total += len(a)
				if !quoted && !bytes.Contains(orig, a) {
					t.Fatalf("argument %q is not in the input", a)
				}
				cmd[i] = string(a)
			}
			if total > len(orig) {
				t.Fatalf("arguments total %d bytes from %d bytes of input", total, len(orig))
			}
			ref.cmds = append(ref.cmds, cmd)
			// Peek must see a prefix of the commands that follow.
			var peeked [][]string
			r.Peek(8, 3, func(a [][]byte) {
				var pc []string
				for _, x := range a {
					pc = append(pc, string(x))
				}
				peeked = append(peeked, pc)
			})
			peeks = append(peeks, peeked)
			if r.Buffered() < 0 || r.Buffered() > len(orig) {
				t.Fatalf("Buffered() = %d", r.Buffered())
			}
			pending = r.HasPending()
		}
		for i, peeked := range peeks {
			for j, pc := range peeked {
				k := i + 1 + j
				if k >= len(ref.cmds) {
					t.Fatalf("Peek after command %d saw %q, which was never read", i, pc)
				}
				next := ref.cmds[k]
				if len(pc) != min(3, len(next)) || fmt.Sprint(pc) != fmt.Sprint(next[:len(pc)]) {
					t.Fatalf("Peek after command %d saw %q, then %q was read", i, pc, next)
				}
			}
		}

		sizes := []int{1 + int(chunk%5), 1 + int(chunk/5%11), 1 + int(chunk)}
		for _, cfg := range []struct {
			bufSize int
			bigArg  int
			sizes   []int
		}{
			{16, 8, []int{1}},
			{16, 4, sizes},
			{100, bigArgSize, sizes},
		} {
			r := NewReader(&chunkReader{data: bytes.Clone(data), sizes: cfg.sizes}, cfg.bufSize)
			r.Unauthenticated = unauth
			r.bigArg = cfg.bigArg
			var got fuzzResult
			for {
				args, err := r.ReadCommand()
				if err != nil {
					got.err = err.Error()
					break
				}
				cmd := make([]string, len(args))
				for i, a := range args {
					cmd[i] = string(a)
				}
				got.cmds = append(got.cmds, cmd)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", ref) {
				t.Fatalf("config %+v:\n got %q\nwant %q", cfg, got, ref)
			}
		}
		if !bytes.Equal(data, orig) {
			t.Fatal("input modified")
		}
	})
}

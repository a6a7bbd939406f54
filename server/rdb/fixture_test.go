package rdb

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fixture is a fixed list of commands. TestGenerateRedisFixture feeds
// it to a real redis-server and keeps its dump.rdb in testdata; the loading
// tests replay the same commands into a small model and compare. Regenerate
// with: FLUIDB_RDB_FIXTURE=1 go test ./server/rdb -run TestGenerateRedisFixture

const fixtureFile = "testdata/redis-7.0.15-encodings.rdb"
const fixtureTTL = 4102444800000 // 2100-01-01, so the keys never expire in tests

func fixtureCommands() [][]string {
	var cmds [][]string
	add := func(a ...string) { cmds = append(cmds, a) }
	rng := rand.New(rand.NewPCG(7, 7))
	randBytes := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(b)
	}
	// Plain quicklist nodes appear for elements over this many bytes.
	add("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
	add("SELECT", "0")
	for k, v := range map[string]string{
		"str:int8": "100", "str:neg": "-5", "str:int16": "30000", "str:int32": "2000000000",
		"str:int64": "9000000000000000000", "str:lead0": "007", "str:empty": "",
		"str:bin": "\x00\xff\r\n binary \x01", "str:compressible": strings.Repeat("abc", 1000),
		"str:float": "3.14", "str:plus": "+1",
	} {
		add("SET", k, v)
	}
	add("SET", "str:huge", randBytes(100000))
	add("SET", "str:hugecompressible", strings.Repeat("fluidb-", 200000))
	add("SET", "\x00bin\xffkey", "binary key")
	add("PEXPIREAT", "str:int8", strconv.Itoa(fixtureTTL))
	add("PEXPIREAT", "str:huge", strconv.Itoa(fixtureTTL+1))

	// Integers of every listpack width, in a small list and a big one.
	ints := []string{"0", "1", "127", "128", "-1", "-4096", "4095", "4096", "-32768", "32767",
		"32768", "-8388608", "8388607", "8388608", "-2147483648", "2147483647", "2147483648",
		"-9223372036854775808", "9223372036854775807", "12a", "", "-0", "00"}
	add(append([]string{"RPUSH", "list:small"}, ints...)...)
	big := []string{"RPUSH", "list:big"}
	for i := 0; i < 5000; i++ {
		if i%3 == 0 {
			big = append(big, strconv.Itoa(i*7919))
		} else {
			big = append(big, "element-"+strconv.Itoa(i))
		}
	}
	add(big...)
	add("RPUSH", "list:plain", "a", strings.Repeat("P", 2000), "b", strings.Repeat("Q", 5000), "c")
	add("RPUSH", "list:longelems", strings.Repeat("x", 100), strings.Repeat("y", 5000), strings.Repeat("z", 70000))
	add("PEXPIREAT", "list:small", strconv.Itoa(fixtureTTL))

	add("SADD", "set:intset16", "1", "2", "3", "-7")
	add("SADD", "set:intset32", "1", "100000", "-100000")
	add("SADD", "set:intset64", "1", "5000000000", "-9000000000000000000")
	add("SADD", "set:strings", "a", "b", "c", "", "\x00")
	bigInts := []string{"SADD", "set:bigints"}
	bigStrs := []string{"SADD", "set:big"}
	for i := 0; i < 1000; i++ {
		bigInts = append(bigInts, strconv.Itoa(i*3))
		bigStrs = append(bigStrs, "member-"+strconv.Itoa(i))
	}
	add(bigInts...)
	add(bigStrs...)

	add("HSET", "hash:small", "f1", "v1", "f2", "2", "f3", "-300000", "empty", "", "", "emptyfield")
	bigHash := []string{"HSET", "hash:big"}
	for i := 0; i < 1000; i++ {
		bigHash = append(bigHash, "field-"+strconv.Itoa(i), strconv.Itoa(i*i))
	}
	add(bigHash...)
	add("HSET", "hash:longval", "f", strings.Repeat("v", 100), "g", "1")
	add("PEXPIREAT", "hash:big", strconv.Itoa(fixtureTTL))

	add("ZADD", "zset:small", "1", "a", "2.5", "b", "-3", "c", "inf", "top", "-inf", "bottom", "0", "zero", "1e300", "huge", "3", "12")
	bigZ := []string{"ZADD", "zset:big"}
	for i := 0; i < 1000; i++ {
		bigZ = append(bigZ, strconv.FormatFloat(float64(i)/7, 'g', -1, 64), "m"+strconv.Itoa(i))
	}
	add(bigZ...)
	add("ZADD", "zset:longmember", "1", strings.Repeat("m", 100), "2", "short")

	add("FUNCTION", "LOAD", "#!lua name=fixturelib\nredis.register_function('fixture_fn', function() return 1 end)")

	add("SELECT", "1")
	add("SET", "db1:a", "in db 1")
	add("RPUSH", "db1:list", "x", "y")
	add("PEXPIREAT", "db1:a", strconv.Itoa(fixtureTTL+5))
	add("SELECT", "15")
	add("HSET", "db15:h", "k", "v")
	return cmds
}

// fixtureModel is what a database should hold after the commands:
// db -> key -> canonical text of the value (see canon).
type fixtureModel map[int]map[string]*modelVal

type modelVal struct {
	typ    string
	str    string
	list   []string
	set    map[string]bool
	hash   map[string]string
	zset   map[string]float64
	expire int64
}

func buildModel(cmds [][]string) fixtureModel {
	m := fixtureModel{}
	db := 0
	get := func(k, typ string) *modelVal {
		if m[db] == nil {
			m[db] = map[string]*modelVal{}
		}
		v := m[db][k]
		if v == nil {
			v = &modelVal{typ: typ, set: map[string]bool{}, hash: map[string]string{}, zset: map[string]float64{}}
			m[db][k] = v
		}
		return v
	}
	for _, c := range cmds {
		switch strings.ToUpper(c[0]) {
		case "SELECT":
			db, _ = strconv.Atoi(c[1])
		case "SET":
			get(c[1], "string").str = c[2]
		case "RPUSH":
			v := get(c[1], "list")
			v.list = append(v.list, c[2:]...)
		case "SADD":
			v := get(c[1], "set")
			for _, x := range c[2:] {
				v.set[x] = true
			}
		case "HSET":
			v := get(c[1], "hash")
			for i := 2; i+1 < len(c); i += 2 {
				v.hash[c[i]] = c[i+1]
			}
		case "ZADD":
			v := get(c[1], "zset")
			for i := 2; i+1 < len(c); i += 2 {
				f, _ := strconv.ParseFloat(c[i], 64)
				v.zset[c[i+1]] = f
			}
		case "PEXPIREAT":
			v := m[db][c[1]]
			v.expire, _ = strconv.ParseInt(c[2], 10, 64)
		}
	}
	return m
}

// canon renders a value in a form that ignores encoding and order.
func (v *modelVal) canon() string {
	var parts []string
	switch v.typ {
	case "string":
		return fmt.Sprintf("string %q ttl=%d", v.str, v.expire)
	case "list":
		return fmt.Sprintf("list %q ttl=%d", v.list, v.expire)
	case "set":
		for k := range v.set {
			parts = append(parts, strconv.Quote(k))
		}
	case "hash":
		for k, x := range v.hash {
			parts = append(parts, strconv.Quote(k)+"="+strconv.Quote(x))
		}
	case "zset":
		for k, x := range v.zset {
			parts = append(parts, strconv.Quote(k)+"="+fmtScore(x))
		}
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s [%s] ttl=%d", v.typ, strings.Join(parts, " "), v.expire)
}

func fmtScore(f float64) string {
	if math.IsInf(f, 0) {
		if f > 0 {
			return "inf"
		}
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// respPipe sends commands to addr and checks none failed. It speaks just
// enough RESP to skip the replies.
func respPipe(t testing.TB, addr string, cmds [][]string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	for _, c := range cmds {
		fmt.Fprintf(w, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	for i, c := range cmds {
		if msg := skipReply(r); msg != "" {
			t.Fatalf("command %d (%s): %s", i, c[0], msg)
		}
	}
}

func skipReply(r *bufio.Reader) string {
	line, err := r.ReadString('\n')
	if err != nil {
		return err.Error()
	}
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case '-':
		return line
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n >= 0 {
			if _, err := io.CopyN(io.Discard, r, int64(n+2)); err != nil {
				return err.Error()
			}
		}
	case '*':
		n, _ := strconv.Atoi(line[1:])
		for i := 0; i < n; i++ {
			if msg := skipReply(r); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// startRedis runs a throwaway redis-server in dir on port.
func startRedis(t testing.TB, dir string, port int, extra ...string) (addr string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--daemonize", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			cmd.Process.Kill()
			t.Fatal("redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, func() { cmd.Process.Kill(); cmd.Wait() }
}

func TestGenerateRedisFixture(t *testing.T) {
	if os.Getenv("FLUIDB_RDB_FIXTURE") == "" {
		t.Skip("set FLUIDB_RDB_FIXTURE=1 to regenerate the redis-server fixtures")
	}
	gen := func(name string, port int, cmds [][]string, extra ...string) {
		dir := t.TempDir()
		addr, stop := startRedis(t, dir, port, extra...)
		defer stop()
		respPipe(t, addr, append(cmds, []string{"SAVE"}))
		b, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", name, len(b))
	}
	gen(fixtureFile, 7161, fixtureCommands())
	small := [][]string{{"SET", "a", "1"}, {"RPUSH", "l", "x"}, {"HSET", "h", "f", "v"}}
	gen("testdata/redis-7.0.15-lfu.rdb", 7162, small, "--maxmemory-policy", "allkeys-lfu")
	gen("testdata/redis-7.0.15-lru.rdb", 7163, small, "--maxmemory-policy", "allkeys-lru")
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fluidb/fluidb/server/config"
)

func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		have, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			t.Errorf("%s: %v (run go run ./internal/gendocs)", f.path, err)
			continue
		}
		if !bytes.Equal(have, f.data) {
			hl, wl := strings.Split(string(have), "\n"), strings.Split(string(f.data), "\n")
			i := 0
			for i < len(hl) && i < len(wl) && hl[i] == wl[i] {
				i++
			}
			line := func(ls []string) string {
				if i < len(ls) {
					return ls[i]
				}
				return "(end of file)"
			}
			t.Errorf("%s is stale (run go run ./internal/gendocs); first difference at line %d:\n have %q\n want %q",
				f.path, i+1, line(hl), line(wl))
		}
	}
}

// Uncommenting every default line of configs/fluidb.conf must load, and
// give exactly the built-in defaults: the comments tell the truth.
func TestSampleConfigShowsTheDefaults(t *testing.T) {
	text := string(sampleConfig())
	for name, v := range packaged {
		if !strings.Contains(text, "\n"+name+" "+v+"\n") {
			t.Errorf("fluidb.conf lacks the active line %q", name+" "+v)
		}
	}
	dir := t.TempDir()
	lines := strings.Split(text, "\n")
	uncommented := 0
	for _, d := range config.Directives() {
		want := defaultLine(d)
		if _, ok := packaged[d.Name]; ok || want == "" {
			continue
		}
		n := 0
		for i, l := range lines {
			if l == "# "+want {
				lines[i] = want
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q appears %d times in fluidb.conf, want once", "# "+want, n)
		}
		uncommented += n
	}
	if uncommented < len(config.Directives())-len(packaged)-1 {
		t.Errorf("only %d default lines found", uncommented)
	}
	for i, l := range lines {
		if l == "dir "+packaged["dir"] {
			lines[i] = "dir " + config.Quote(dir)
		}
	}
	path := filepath.Join(dir, "all.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("fluidb.conf with every default uncommented: %v", err)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("fluidb.conf with every default uncommented: %v", err)
	}
	def := config.Default()
	for _, d := range config.Directives() {
		if d.Name == "dir" {
			continue
		}
		if g, w := got.Get(d.Name), def.Get(d.Name); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: uncommented file gives %q, default is %q", d.Name, g, w)
		}
	}
}

func TestSectionsNameDirectives(t *testing.T) {
	all := config.Directives()
	if sections[0].first != all[0].Name {
		t.Errorf("first section starts at %q, the table at %q", sections[0].first, all[0].Name)
	}
	for _, s := range sections {
		if _, ok := config.Lookup(s.first); !ok {
			t.Errorf("section %q starts at unknown directive %q", s.title, s.first)
		}
	}
	for name := range packaged {
		if _, ok := config.Lookup(name); !ok {
			t.Errorf("packaged sets unknown directive %q", name)
		}
	}
}

func TestProbesNameCommands(t *testing.T) {
	rows, err := commandRows()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r.name] = true
		if r.group == "" {
			t.Errorf("%s: COMMAND DOCS gives no group", r.name)
		}
	}
	for name := range probes {
		if !have[name] {
			t.Errorf("probe for %q, which is not in the command table", name)
		}
	}
	for _, name := range []string{"get", "config|get", "cluster|info"} {
		if !have[name] {
			t.Errorf("%s missing from the rows", name)
		}
	}
}

func TestRedisCommandList(t *testing.T) {
	cmds, err := redisCommands()
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 388 {
		t.Errorf("%d Redis 7.0.15 commands, want 388", len(cmds))
	}
	for _, c := range cmds {
		if c.name == "xgroup|create" && c.group == "stream" && c.since == "5.0.0" {
			return
		}
	}
	t.Error("xgroup|create (stream, 5.0.0) not in the list")
}

func TestParseReply(t *testing.T) {
	in := "*5\r\n+OK\r\n:-3\r\n$3\r\na\rb\r\n$-1\r\n*2\r\n-ERR x\r\n*0\r\n"
	v, rest, err := parseReply(in)
	if err != nil || rest != "" {
		t.Fatalf("parseReply: %v, rest %q", err, rest)
	}
	want := []any{"OK", int64(-3), "a\rb", nil, []any{respError("ERR x"), []any{}}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("parseReply = %#v, want %#v", v, want)
	}
	for _, bad := range []string{"", "$5\r\nab\r\n", "*2\r\n:1\r\n", "?x\r\n"} {
		if _, _, err := parseReply(bad); err == nil {
			t.Errorf("parseReply(%q) accepted", bad)
		}
	}
}

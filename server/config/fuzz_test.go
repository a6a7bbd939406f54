package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary file content to the parser. Besides never
// panicking, accepted content must survive CONFIG REWRITE unchanged in
// meaning, and every line's arguments must survive quoting.
func FuzzParse(f *testing.F) {
	f.Add([]byte("port 6379\nrequirepass mypassword123\nmasterauth mypassword123\nactive-replica yes\nreplicaof 10.0.0.3 6379\n"))
	f.Add([]byte("save \"\"\nsave 60 1\nbind 127.0.0.1 -::1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		content := string(data)
		for _, line := range strings.Split(content, "\n") {
			args, ok := SplitArgs(line)
			if !ok {
				continue
			}
			quoted := make([]string, len(args))
			for i, a := range args {
				quoted[i] = Quote(a)
			}
			back, ok := SplitArgs(strings.Join(quoted, " "))
			if !ok || !slices.Equal(back, args) {
				t.Fatalf("quoting %q gave %q", args, back)
			}
		}

		c := Default()
		l := &loader{cfg: c, noInclude: true}
		if err := l.loadString("fuzz.conf", ".", content); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		got := c.Get("*")
		if _, err := c.Clone().Set([][2]string{{"port", got[1][1]}}); err != nil {
			t.Fatalf("re-setting port %q: %v", got[1][1], err)
		}

		rewritten := c.rewriteContent(content)
		again := Default()
		l = &loader{cfg: again, noInclude: true}
		if err := l.loadString("rewritten.conf", ".", rewritten); err != nil {
			t.Fatalf("rewritten file does not load: %v\n%s", err, rewritten)
		}
		if !reflect.DeepEqual(again.Get("*"), got) {
			t.Fatalf("rewrite changed values:\n%q\nrewritten:\n%s", content, rewritten)
		}
	})
}

package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/config"
)

// sections groups the directive table the way its own comments do, keyed by
// the first directive of each group in table order; a directive belongs to
// the last section started before it.
var sections = []struct{ first, title string }{
	{"bind", "Network"},
	{"daemonize", "Process and logging"},
	{"requirepass", "Security"},
	{"maxclients", "Clients and memory"},
	{"save", "Persistence"},
	{"replicaof", "Replication"},
	{"slowlog-log-slower-than", "Monitoring"},
	{"list-max-listpack-size", "Encodings"},
}

// packaged are the directives the installed /etc/fluidb/fluidb.conf sets
// instead of showing them commented out: a system service keeps its data in
// the directory the package creates and listens on loopback only until the
// operator decides otherwise.
var packaged = map[string]string{
	"bind":           "127.0.0.1",
	"port":           "6379",
	"protected-mode": "yes",
	"dir":            "/var/lib/fluidb",
}

type section struct {
	title string
	dirs  []config.DirectiveInfo
}

func directiveSections() []section {
	var out []section
	for _, d := range config.Directives() {
		for _, s := range sections {
			if s.first == d.Name {
				out = append(out, section{title: s.title})
			}
		}
		if len(out) == 0 {
			out = append(out, section{title: "General"})
		}
		out[len(out)-1].dirs = append(out[len(out)-1].dirs, d)
	}
	return out
}

// argument renders a value as a config file argument: quoted when it is
// empty or holds spaces or quotes. Multi-argument directives are written
// as their words.
func argument(d config.DirectiveInfo, v string) string {
	if v == "" {
		return `""`
	}
	if d.Kind != config.KindSpecial && d.Kind != config.KindEnum && strings.ContainsAny(v, " \t\"'\\#") {
		return config.Quote(v)
	}
	return v
}

// defaultLine is the directive line that sets the default, or "" when no
// line can: the default of replicaof is the directive's absence, and
// replicaof "" is an error. Whether an empty value parses is asked of the
// parser itself.
func defaultLine(d config.DirectiveInfo) string {
	if d.Default == "" {
		if _, err := config.Load("", []string{"--" + d.Name, ""}); err != nil {
			return ""
		}
	}
	return d.Name + " " + argument(d, d.Default)
}

// limits describes bounds that are not just the type's range and that the
// description does not already give.
func limits(d config.DirectiveInfo) string {
	switch d.Kind {
	case config.KindInt:
		if d.Min <= math.MinInt32 || (d.Max >= math.MaxInt32 && d.Min <= 1) ||
			strings.Contains(d.Doc, fmt.Sprintf("%d..%d", d.Min, d.Max)) {
			return ""
		}
		if d.Max >= math.MaxInt32 {
			return fmt.Sprintf("at least %d", d.Min)
		}
		return fmt.Sprintf("%d to %d", d.Min, d.Max)
	case config.KindOctal:
		return fmt.Sprintf("%s to %s (octal)", strconv.FormatInt(d.Min, 8), strconv.FormatInt(d.Max, 8))
	case config.KindMemory:
		if d.Min > 0 {
			return "at least " + bytesText(d.Min)
		}
	}
	return ""
}

// bytesText writes a size the way a config file would, 1mb for 1048576.
func bytesText(n int64) string {
	for _, u := range []struct {
		unit  string
		scale int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}} {
		if n%u.scale == 0 {
			return strconv.FormatInt(n/u.scale, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func defaultText(d config.DirectiveInfo) string {
	if d.Default == "" {
		if defaultLine(d) == "" {
			return "none"
		}
		return "empty"
	}
	return d.Default
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// wrap breaks text into lines of at most width bytes, each starting with
// prefix.
func wrap(text, prefix string, width int) []string {
	var lines []string
	cur := prefix
	for _, w := range strings.Fields(text) {
		if cur != prefix && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = prefix
		}
		if cur != prefix {
			cur += " "
		}
		cur += w
	}
	if cur != prefix {
		lines = append(lines, cur)
	}
	return lines
}

const confHeader = `# fluidb configuration file
#
%s
#
# The syntax is redis.conf's. One directive per line; arguments are separated
# by spaces and may be "double-quoted" (with \n, \xHH escapes) or 'single-
# quoted'. Sizes accept units: 1k = 1000 bytes, 1kb = 1024 bytes, and m, mb,
# g, gb likewise. "include <path>" reads another file at that point (a glob
# pattern such as /etc/fluidb/conf.d/*.conf may match nothing). A later line
# overrides an earlier one, except that "save" lines add up; options on the
# command line override the file:
#
#   fluidb serve /etc/fluidb/fluidb.conf --port 6380
#   fluidb serve /etc/fluidb/fluidb.conf --test-config    (check, then exit)
#
# Directives marked "CONFIG SET: yes" can also be changed at run time, and
# CONFIG REWRITE writes them back here if the service may write to
# /etc/fluidb (the shipped systemd unit does not allow it; see its comments).
#
# Generated from fluidb's directive table (server/config) by
# go run ./internal/gendocs; docs/configuration.md is the same reference as a
# table. In the source tree, change the table, not this file.
`

// sampleConfig renders configs/fluidb.conf.
func sampleConfig() []byte {
	var b strings.Builder
	var active []string
	for _, d := range config.Directives() {
		if _, ok := packaged[d.Name]; ok {
			active = append(active, d.Name)
		}
	}
	intro := "The deb and rpm packages install this file as /etc/fluidb/fluidb.conf. " +
		"It lists every directive fluidb understands, each with a commented-out " +
		"\"# name value\" line showing its default, so removing the \"# \" changes " +
		"nothing until the value is edited. The active lines are the ones a system " +
		"service needs: " + strings.Join(active, ", ") + ". dir must exist (the packages " +
		"create /var/lib/fluidb); to try this file from an unpacked archive, create " +
		"that directory or change the line."
	fmt.Fprintf(&b, confHeader, strings.Join(wrap(intro, "# ", 78), "\n"))
	for _, s := range directiveSections() {
		title := " " + strings.ToUpper(s.title) + " "
		pad := 78 - len(title)
		fmt.Fprintf(&b, "\n%s%s%s\n", strings.Repeat("#", pad/2), title, strings.Repeat("#", pad-pad/2))
		for _, d := range s.dirs {
			b.WriteByte('\n')
			for _, l := range wrap(d.Doc, "# ", 78) {
				b.WriteString(l + "\n")
			}
			facts := []string{"Syntax: " + d.Name + " " + d.Args + "."}
			if l := limits(d); l != "" {
				facts = append(facts, "Range: "+l+".")
			}
			facts = append(facts, "Default: "+defaultText(d)+".", "CONFIG SET: "+yes(d.Mutable)+".")
			if len(d.Aliases) > 0 {
				facts = append(facts, "Also spelled "+strings.Join(d.Aliases, ", ")+".")
			}
			if d.Sensitive {
				facts = append(facts, "A secret: CONFIG SET hides it from SLOWLOG and MONITOR.")
			}
			for _, l := range wrap(strings.Join(facts, " "), "# ", 78) {
				b.WriteString(l + "\n")
			}
			if v, ok := packaged[d.Name]; ok {
				b.WriteString(d.Name + " " + argument(d, v) + "\n")
			} else if line := defaultLine(d); line != "" {
				b.WriteString("# " + line + "\n")
			} else {
				b.WriteString("# " + d.Name + " " + strings.TrimSpace(strings.Split(d.Args, "|")[0]) + "\n")
			}
		}
	}
	return []byte(b.String())
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + cell(s) + "`"
}

const configIntro = `# Configuration reference

<!-- Generated by go run ./internal/gendocs from the directive table in
server/config; edit the table, then regenerate. A test fails when this file
is stale. -->

fluidb reads redis.conf-style files: one directive per line, arguments
separated by spaces and quoted like redis.conf, sizes with units (1k = 1000
bytes, 1kb = 1024 bytes, m, mb, g, gb likewise), ` + "`include <path>`" + ` for other
files. Settings apply in order: the defaults below, then the file, then the
command line (` + "`fluidb serve node.conf --port 7001`" + `). Check a file without
starting a server with ` + "`fluidb serve node.conf --test-config`" + `.

Directives with "yes" under CONFIG SET can also be changed on a running
server; ` + "`CONFIG REWRITE`" + ` writes the current values back to the file the
server was started with. [configs/fluidb.conf](../configs/fluidb.conf) is this
reference as a commented configuration file.
`

// configMarkdown renders docs/configuration.md.
func configMarkdown() []byte {
	var b strings.Builder
	b.WriteString(configIntro)
	secs := directiveSections()
	b.WriteString("\n")
	for _, s := range secs {
		fmt.Fprintf(&b, "- [%s](#%s) (%d)\n", s.title, anchor(s.title), len(s.dirs))
	}
	for _, s := range secs {
		fmt.Fprintf(&b, "\n## %s\n\n", s.title)
		b.WriteString("| Directive | Arguments | Default | CONFIG SET | Description |\n")
		b.WriteString("|---|---|---|---|---|\n")
		for _, d := range s.dirs {
			name := code(d.Name)
			for _, a := range d.Aliases {
				name += "<br>" + code(a)
			}
			def := code(d.Default)
			if d.Default == "" {
				def = "(" + defaultText(d) + ")"
			}
			desc := d.Doc
			if l := limits(d); l != "" {
				desc += " Range: " + l + "."
			}
			if d.Sensitive {
				desc += " Secret: hidden from SLOWLOG and MONITOR."
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, code(d.Args), def, yes(d.Mutable), cell(desc))
		}
	}
	return []byte(b.String())
}

// anchor is GitHub's heading anchor for simple titles.
func anchor(title string) string {
	return strings.ReplaceAll(strings.ToLower(title), " ", "-")
}

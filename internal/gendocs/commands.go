package main

import (
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/fluidb/fluidb/server"
	"github.com/fluidb/fluidb/server/config"
)

// redis70 lists every Redis 7.0.15 command and subcommand (name, group,
// since), extracted from Redis's src/commands/*.json.
//
//go:embed redis70-commands.txt
var redis70 string

type redisCommand struct{ name, group, since string }

func redisCommands() ([]redisCommand, error) {
	var out []redisCommand
	for i, line := range strings.Split(redis70, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("redis70-commands.txt:%d: want name, group, since", i+1)
		}
		out = append(out, redisCommand{f[0], f[1], f[2]})
	}
	return out, nil
}

// commandRow is one command or subcommand as a client sees it.
type commandRow struct {
	name    string // "get", "config|get"
	arity   int64
	flags   []string
	group   string
	support string // "" when the command works; else why not
}

// placeholderMarks are the error texts of table rows that exist so clients
// get an answer but do not do the work (yet).
var placeholderMarks = []string{"not implemented", "not supported by fluidb", "cluster support disabled"}

// probes are harmless calls to the table rows known to be placeholders.
// A row is listed as unsupported only while its probe still answers with a
// placeholder error, so implementing one updates the docs by itself.
var probes = map[string][]string{
	"function|dump":    {"FUNCTION", "DUMP"},
	"function|load":    {"FUNCTION", "LOAD", "#!lua name=gendocs\nredis.register_function('f', function() return 1 end)"},
	"function|restore": {"FUNCTION", "RESTORE", "not-a-payload"},
	"script|load":      {"SCRIPT", "LOAD", "return 1"},
	"client|tracking":  {"CLIENT", "TRACKING", "on"},
	"readonly":         {"READONLY"},
	"readwrite":        {"READWRITE"},
}

// probeFor gives the probe of a row: from probes, or for every CLUSTER
// subcommand (all answer as a Redis without cluster-enabled does).
func probeFor(name string) []string {
	if p, ok := probes[name]; ok {
		return p
	}
	if sub, ok := strings.CutPrefix(name, "cluster|"); ok {
		return []string{"CLUSTER", sub}
	}
	return nil
}

// commandRows asks a fresh in-process server (never started, data
// directory in a temporary directory) for its command table.
func commandRows() ([]commandRow, error) {
	dir, err := os.MkdirTemp("", "gendocs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg, err := config.Load("", []string{"--dir", dir, "--save", "", "--appendonly", "no"})
	if err != nil {
		return nil, err
	}
	srv, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	c := srv.NewTestClient()
	call := func(args ...string) (any, error) {
		v, rest, err := parseReply(c.Do(args...))
		if err == nil && rest != "" {
			err = fmt.Errorf("%v: trailing bytes in reply", args)
		}
		if e, ok := v.(respError); ok && err == nil {
			err = fmt.Errorf("%v: %s", args, e)
		}
		return v, err
	}
	info, err := call("COMMAND", "INFO")
	if err != nil {
		return nil, err
	}
	docs, err := call("COMMAND", "DOCS")
	if err != nil {
		return nil, err
	}
	groups := map[string]string{}
	var walkDocs func(m map[string]any)
	walkDocs = func(m map[string]any) {
		for name, d := range m {
			dm := pairs(d)
			groups[name], _ = dm["group"].(string)
			if subs, ok := dm["subcommands"]; ok {
				walkDocs(pairs(subs))
			}
		}
	}
	walkDocs(pairs(docs))

	var rows []commandRow
	var walkInfo func(list any) error
	walkInfo = func(list any) error {
		arr, _ := list.([]any)
		for _, x := range arr {
			e, _ := x.([]any)
			if len(e) < 10 {
				return fmt.Errorf("COMMAND INFO entry %v: want 10 fields", x)
			}
			name, _ := e[0].(string)
			arity, _ := e[1].(int64)
			row := commandRow{name: name, arity: arity, flags: strs(e[2]), group: groups[name]}
			if p := probeFor(name); p != nil {
				if r, _, err := parseReply(c.Do(p...)); err == nil {
					if msg, ok := r.(respError); ok && isPlaceholder(string(msg)) {
						row.support = strings.TrimPrefix(string(msg), "ERR ")
					}
				}
			}
			at := len(rows)
			rows = append(rows, row)
			if err := walkInfo(e[9]); err != nil {
				return err
			}
			// A container is a placeholder when all its subcommands but
			// HELP are (CLUSTER).
			if subs := rows[at+1:]; len(subs) > 0 {
				rows[at].support = ""
				for _, sub := range subs {
					if strings.HasSuffix(sub.name, "|help") {
						continue
					}
					if sub.support == "" {
						rows[at].support = ""
						break
					}
					rows[at].support = sub.support
				}
			}
		}
		return nil
	}
	if err := walkInfo(info); err != nil {
		return nil, err
	}
	sort.Slice(rows, func(i, j int) bool {
		ti, si, _ := strings.Cut(rows[i].name, "|")
		tj, sj, _ := strings.Cut(rows[j].name, "|")
		if ti != tj {
			return ti < tj
		}
		return si < sj
	})
	return rows, nil
}

func isPlaceholder(msg string) bool {
	for _, m := range placeholderMarks {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// display writes "config|get" the way Redis's documentation does.
func display(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "|", " "))
}

const commandsIntro = `# Command compatibility

<!-- Generated by go run ./internal/gendocs from the command table a fresh
fluidb server reports (COMMAND INFO, COMMAND DOCS) and the list of Redis
7.0.15 commands in internal/gendocs/redis70-commands.txt. A test fails when
this file is stale. -->

fluidb answers the Redis 7.0 protocol. This page lists every command and
subcommand in its command table, with the arity, flags and group that
` + "`COMMAND INFO`" + ` and ` + "`COMMAND DOCS`" + ` report (a negative arity means "at least
that many arguments", counting the command name), then the Redis 7.0
commands fluidb does not have.

A few rows exist only so that clients get the answer they expect and are
marked "no" with that answer: CLUSTER replies as a Redis server started
without ` + "`cluster-enabled`" + ` does (fluidb scales out with active replicas and a
proxy instead), and the scripting and client-side caching entry points say
they are not implemented yet.
`

// commandsMarkdown renders docs/commands.md.
func commandsMarkdown() ([]byte, error) {
	rows, err := commandRows()
	if err != nil {
		return nil, err
	}
	redis, err := redisCommands()
	if err != nil {
		return nil, err
	}
	inRedis := map[string]bool{}
	for _, r := range redis {
		inRedis[r.name] = true
	}
	have := map[string]bool{}
	working, placeholders := 0, 0
	for _, r := range rows {
		have[r.name] = true
		if r.support == "" {
			working++
		} else {
			placeholders++
		}
	}
	var missing []redisCommand
	for _, r := range redis {
		if !have[r.name] {
			missing = append(missing, r)
		}
	}
	sort.SliceStable(missing, func(i, j int) bool { return missing[i].group < missing[j].group })

	var b strings.Builder
	b.WriteString(commandsIntro)
	fmt.Fprintf(&b, "\nfluidb's table has %d commands and subcommands: %d work, %d are placeholders. "+
		"Redis 7.0 has %d, of which fluidb lacks %d.\n", len(rows), working, placeholders, len(redis), len(missing))
	b.WriteString("\n## Commands in fluidb\n\n")
	b.WriteString("| Command | Arity | Flags | Group | Supported |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		sup := "yes"
		if r.support != "" {
			sup = "no: " + r.support
		}
		if !inRedis[r.name] {
			sup += " (not in Redis 7.0)"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", code(display(r.name)), r.arity,
			cell(strings.Join(r.flags, ", ")), cell(r.group), cell(sup))
	}
	b.WriteString("\n## Redis 7.0 commands fluidb does not implement\n\n")
	b.WriteString("Sent to fluidb, these get Redis's reply to an unknown command: " +
		"`ERR unknown command`, or `ERR unknown subcommand` when fluidb has the " +
		"command but not that subcommand (SCRIPT DEBUG).\n\n")
	b.WriteString("| Command | Group | Since |\n|---|---|---|\n")
	for _, r := range missing {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", code(display(r.name)), cell(r.group), cell(r.since))
	}
	return []byte(b.String()), nil
}

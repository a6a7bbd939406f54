//go:generate go run .

// Command gendocs writes the files fluidb generates from its own tables, so
// they cannot drift from the code:
//
//   - configs/fluidb.conf: every directive, commented, at its default (the
//     file the packages install as /etc/fluidb/fluidb.conf);
//   - docs/configuration.md: the directive reference;
//   - docs/commands.md: the command table and the Redis 7.0 commands fluidb
//     lacks.
//
// Run it from anywhere in the module (go run ./internal/gendocs, or
// go generate ./...). With -check it writes nothing and exits 1 when a file
// is stale; the package's test does the same check.
//
// It reads the directive table through server/config and the command table
// by asking an in-process server (COMMAND INFO, COMMAND DOCS), the way a
// client would see it.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// file is one generated file, path relative to the module root.
type file struct {
	path string
	data []byte
}

func generate() ([]file, error) {
	cmds, err := commandsMarkdown()
	if err != nil {
		return nil, err
	}
	return []file{
		{"configs/fluidb.conf", sampleConfig()},
		{"docs/configuration.md", configMarkdown()},
		{"docs/commands.md", cmds},
	}, nil
}

// stale lists the generated files whose content on disk differs.
func stale(root string, files []file) []string {
	var out []string
	for _, f := range files {
		have, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil || !bytes.Equal(have, f.data) {
			out = append(out, f.path)
		}
	}
	return out
}

// moduleRoot finds the directory holding go.mod, upwards from the working
// directory (the package directory under go generate and go test).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func run(check bool) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	files, err := generate()
	if err != nil {
		return err
	}
	old := stale(root, files)
	if check {
		if len(old) > 0 {
			return fmt.Errorf("stale generated files %v: run go run ./internal/gendocs", old)
		}
		return nil
	}
	for _, f := range files {
		for _, o := range old {
			if o == f.path {
				if err := os.WriteFile(filepath.Join(root, f.path), f.data, 0o644); err != nil {
					return err
				}
				fmt.Println("wrote", f.path)
			}
		}
	}
	return nil
}

func main() {
	check := flag.Bool("check", false, "report stale files and exit 1 instead of writing them")
	flag.Parse()
	if err := run(*check); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

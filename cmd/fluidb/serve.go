package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fluidb/fluidb/server"
	"github.com/fluidb/fluidb/server/config"
)

const serveHelp = `Run the fluidb server.

  fluidb serve [config-file] [--directive value ...] [--test-config]

Directives are redis.conf's (and fluidb's own, such as active-replica), in a
file, on the command line, or both: the command line wins. With no arguments
fluidb listens on 127.0.0.1:6379 with protected mode on.

Examples:
  fluidb serve
  fluidb serve /etc/fluidb/fluidb.conf
  fluidb serve node.conf --port 7001 --active-replica yes --replicaof 10.0.0.2 6379
  fluidb serve node.conf --test-config`

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve [config-file] [--directive value ...]",
		Short: "Run the database server",
		Long:  serveHelp,
		// Directives are open-ended (--port 7001 --save "" ...): parse them
		// ourselves, like redis-server.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd, args)
		},
	}
}

func runServe(cmd *cobra.Command, args []string) error {
	testOnly := false
	var rest []string
	for _, a := range args {
		switch a {
		case "-h", "--help":
			return cmd.Help()
		case "--test-config":
			testOnly = true
		default:
			rest = append(rest, a)
		}
	}
	path := ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "--") {
		path, rest = rest[0], rest[1:]
	}
	cfg, err := config.Load(path, rest)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if err := cfg.Validate(); err != nil {
		return &exitError{code: 1, err: err}
	}
	if testOnly {
		fmt.Fprintf(cmd.OutOrStdout(), "configuration OK: %s\n", describeConfig(path))
		return nil
	}
	server.Version = version
	if os.Getenv("GOMAXPROCS") == "" {
		// io-threads (default 1, like Redis) sets how many threads run Go
		// code. Commands run one at a time under the server lock and the
		// reactor serves every client from one goroutine, so a second
		// thread mostly spins in the runtime's network poller: measured
		// 1.2x-1.7x faster with 1 (docs/performance.md).
		runtime.GOMAXPROCS(max(1, cfg.IOThreads))
	}
	if addr := os.Getenv("FLUIDB_PPROF"); addr != "" {
		// Profiling endpoint for developers (net/http/pprof), off unless asked.
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	// Like redis-server: a dataset that cannot be loaded stops the start;
	// serving an empty database instead would lose it at the next save.
	if err := srv.LoadData(); err != nil {
		return &exitError{code: 1, err: err}
	}
	if err := srv.Start(); err != nil {
		return err
	}
	ctx := cmd.Context()
	select {
	case <-ctx.Done():
		// SIGTERM/SIGINT: save first when save points are configured.
		if err := srv.SaveOnExit(); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "fluidb: final save failed:", err)
		}
	case <-srv.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func describeConfig(path string) string {
	if path == "" {
		return "defaults and command line"
	}
	return path
}

package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/fluidb/fluidb/ops"
	"github.com/fluidb/fluidb/tui"
)

const watchHelp = `Watch a group of nodes: links, lag, load, conflicts.

  fluidb watch [NODE...] [--interval 1s] [--once] [--json]

NODE is host:port or redis://[:password@]host:port (default 127.0.0.1:6379).
Given one node, watch finds its peers from INFO. On a terminal it opens a
live dashboard (keys: arrows/tab select, p pause, r refresh, ? help, q quit;
NO_COLOR turns colour off). With --once, or when stdout is not a terminal,
it prints one plain table; --json prints the snapshot as JSON. Both exit 3
when a node does not answer.`

func newWatchCmd() *cobra.Command {
	var f struct {
		password          string
		interval, timeout time.Duration
		lagWarn           time.Duration
		once, asJSON      bool
	}
	cmd := &cobra.Command{
		Use:   "watch [NODE...]",
		Short: "Live dashboard of a group of nodes (or a one-shot table or JSON)",
		Long:  watchHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"127.0.0.1:6379"}
			}
			addrs, err := parseAddrs(args, f.password)
			if err != nil {
				return err
			}
			popt := ops.PollerOptions{Interval: f.interval, Timeout: f.timeout, Discover: len(addrs) == 1}
			out := cmd.OutOrStdout()
			if f.once || f.asJSON || !isTerminal(out) {
				snaps := ops.Collect(cmd.Context(), addrs, popt)
				if f.asJSON {
					err = tui.WriteJSON(out, time.Now(), snaps)
				} else {
					err = tui.WriteTable(out, snaps, f.lagWarn.Milliseconds())
				}
				if err != nil {
					return err
				}
				return unreachableError(snaps)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			p := ops.NewPoller(addrs, popt)
			p.Start(ctx)
			defer func() { cancel(); p.Wait() }()
			return tui.Run(ctx, p, tui.Options{Interval: f.interval, LagWarnMs: f.lagWarn.Milliseconds(), Renderer: renderer()})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.password, "password", "a", "", "password of the nodes (or FLUIDB_PASSWORD, REDISCLI_AUTH)")
	fl.DurationVar(&f.interval, "interval", time.Second, "time between polls of each node")
	fl.DurationVar(&f.timeout, "timeout", 0, "how long a poll may take before the node shows as unreachable (default: the interval, at least 1s)")
	fl.DurationVar(&f.lagWarn, "lag-warn", tui.DefaultLagWarnMs*time.Millisecond, "replication lag from which a link shows as lagging")
	fl.BoolVar(&f.once, "once", false, "print one plain-text snapshot and exit")
	fl.BoolVar(&f.asJSON, "json", false, "print one snapshot as JSON and exit")
	return cmd
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// renderer draws on stdout, without colour when NO_COLOR is set.
func renderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(os.Stdout)
	if os.Getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}

// unreachableError is exit status 3 when a node did not answer.
func unreachableError(snaps []ops.Snapshot) error {
	var down []string
	for _, s := range snaps {
		if !s.Reachable {
			down = append(down, s.Addr)
		}
	}
	if len(down) == 0 {
		return nil
	}
	return &exitError{code: 3, err: errors.New("not answering: " + strings.Join(down, ", "))}
}

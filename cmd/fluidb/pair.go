package main

import (
	"encoding/json"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fluidb/fluidb/ops"
)

const pairHelp = `Make two fluidb nodes active replicas of each other, and prove it.

  fluidb pair A B [--enable] [--force] [--dry-run] [--json]
  fluidb pair --unpair A B

A and B are host:port or redis://[:password@]host:port. pair checks that both
answer, are fluidb and have active-replica on (--enable turns it on with
CONFIG SET), refuses a node paired with itself or already paired elsewhere
(unless --force), links B to A and waits for the sync, then A to B, then
writes a probe key on each side and reads it on the other. Data is merged
key by key (the newest write wins); nothing is flushed.

Exit codes: 0 paired, 1 other error, 2 bad arguments, 3 unreachable,
4 authentication, 5 not fluidb or active-replica off, 6 refused (same node,
paired elsewhere), 7 timeout, 8 probe failed.

Examples:
  fluidb pair 10.0.0.1:6379 10.0.0.2:6379
  FLUIDB_PASSWORD=s3cret fluidb pair db1:6379 db2:6379 --enable
  fluidb pair --unpair 10.0.0.1:6379 10.0.0.2:6379`

func newPairCmd() *cobra.Command {
	var f struct {
		password                              string
		timeout                               time.Duration
		enable, force, dryRun, asJSON, unpair bool
	}
	cmd := &cobra.Command{
		Use:   "pair A B",
		Short: "Pair two nodes as active replicas of each other (or --unpair them)",
		Long:  pairHelp,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			addrs, err := parseAddrs(args, f.password)
			if err != nil {
				return err
			}
			opt := ops.PairOptions{Timeout: f.timeout, Enable: f.enable, Force: f.force, DryRun: f.dryRun}
			if !f.asJSON {
				opt.Progress = ops.ProgressPrinter(cmd.ErrOrStderr())
			}
			run := ops.Pair
			if f.unpair {
				run = ops.Unpair
			}
			res, err := run(cmd.Context(), addrs[0], addrs[1], opt)
			switch {
			case f.asJSON:
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if jerr := enc.Encode(res.WithError(err)); jerr != nil {
					return jerr
				}
			case err == nil:
				res.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				return &exitError{code: ops.ExitCode(err), err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.password, "password", "a", "", "password of both nodes (or FLUIDB_PASSWORD, REDISCLI_AUTH)")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "how long to wait for each link, sync and probe")
	fl.BoolVar(&f.enable, "enable", false, "turn active-replica on where it is off (CONFIG SET)")
	fl.BoolVar(&f.force, "force", false, "pair (or unpair) even if a node has links to other nodes")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check both nodes and print the plan; change nothing")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fl.BoolVar(&f.unpair, "unpair", false, "drop the links between A and B (both keep their data)")
	return cmd
}

// parseAddrs reads node addresses, with the password from the flag or the
// environment; a bad address is a usage error (exit 2).
func parseAddrs(args []string, password string) ([]ops.Addr, error) {
	pw := ops.Password(password, os.Getenv)
	out := make([]ops.Addr, len(args))
	for i, s := range args {
		a, err := ops.ParseAddr(s, pw)
		if err != nil {
			return nil, &exitError{code: 2, err: err}
		}
		out[i] = a
	}
	return out, nil
}

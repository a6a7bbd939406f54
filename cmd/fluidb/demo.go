package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/fluidb/fluidb/internal/demo"
)

const demoHelp = `See what fluidb is for, in one command.

demo starts two active-replica nodes in this process on free loopback ports
(or --ports), pairs them, runs a light mixed write load on both, cuts the
link between them now and then so that conflicts appear and resolve, and
opens the watch dashboard on them. q stops everything; the nodes' files go
with them. Without a terminal it prints a table every few seconds instead.

Point redis-cli at either node while it runs:
  redis-cli -p PORT get user:1`

func newDemoCmd() *cobra.Command {
	var f struct {
		ports          []int
		ops            int
		every, lasting time.Duration
		interval, dur  time.Duration
	}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run two paired nodes under load, with partitions, and watch them",
		Long:  demoHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt := demo.Options{OpsPerSec: f.ops, PartitionEvery: f.every, PartitionFor: f.lasting, Log: cmd.ErrOrStderr()}
			if len(f.ports) > 0 {
				if len(f.ports) != 2 {
					return &exitError{code: 2, err: errors.New("--ports takes two ports, as in --ports 7001,7002")}
				}
				opt.Ports = [2]int{f.ports[0], f.ports[1]}
			}
			out := cmd.OutOrStdout()
			v := demo.View{Dashboard: isTerminal(out) && f.dur == 0, Renderer: renderer(), Interval: f.interval, Out: out, For: f.dur}
			return demo.Run(cmd.Context(), opt, v)
		},
	}
	fl := cmd.Flags()
	fl.IntSliceVar(&f.ports, "ports", nil, "the two nodes' ports (default: free ones)")
	fl.IntVar(&f.ops, "ops", 40, "writes per second on each node")
	fl.DurationVar(&f.every, "partition-every", 25*time.Second, "time between partitions (negative: none)")
	fl.DurationVar(&f.lasting, "partition-for", 4*time.Second, "how long a partition lasts")
	fl.DurationVar(&f.interval, "interval", time.Second, "dashboard refresh interval")
	fl.DurationVar(&f.dur, "for", 0, "stop after this long, printing tables instead of the dashboard")
	return cmd
}

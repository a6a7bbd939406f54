package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "fluidb",
		Short:         "A Redis-compatible in-memory database with active-active replication",
		Long:          "fluidb is a Redis-compatible in-memory database. Two or more nodes can be writable at once\n(active replicas) and converge: the newest write wins everywhere.",
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newServeCmd(), newPairCmd(), newWatchCmd(), newDemoCmd(), newVersionCmd())
	return root
}

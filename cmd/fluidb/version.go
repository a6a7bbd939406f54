package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/fluidb/fluidb/server"
)

func versionString() string {
	return fmt.Sprintf("fluidb %s (commit %s, built %s, %s/%s, redis %s compatible)",
		version, commit, date, runtime.GOOS, runtime.GOARCH, server.RedisVersion)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionString())
			return nil
		},
	}
}

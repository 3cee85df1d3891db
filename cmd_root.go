package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "flyrescue",
		Short:         "Recover Fly.io apps from failed deploys",
		Long:          "flyrescue shows a Fly.io app's Machines grouped by image and state, reads the fleet like the\ndeploy-recovery runbook does, and repairs it with leased, retried, verified and journaled actions.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// The settings file feeds the defaults of every command's flags.
		PersistentPreRunE: applySettings,
	}
	// With no subcommand, flyrescue -a APP opens the dashboard.
	dash := &dashOptions{}
	addDashFlags(root, dash)
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error { return runDash(cmd.Context(), dash) }
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by the cmd_*.go files' init functions so each command
// lives in its own file.
var subcommands []func() *cobra.Command

// exitError carries a process exit code with an error message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

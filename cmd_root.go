package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "flyrescue",
		Short: "Recover Fly.io apps from failed deploys",
		Long: `flyrescue shows a Fly.io app's Machines grouped by image and state, reads the fleet like the
deploy-recovery runbook does, and repairs it with leased, retried, verified and journaled actions.

With no command it opens the dashboard for the app (-a, FLY_APP, or fly.toml here). It finds
its token as flyctl does (--access-token, FLY_ACCESS_TOKEN, FLY_API_TOKEN, ~/.fly/config.yml).
Defaults come from ~/.config/flyrescue/config.yaml; flags win. "flyrescue demo" needs neither
a token nor a network.`,
		Example: `  flyrescue demo
  flyrescue -a my-app
  flyrescue status -a my-app
  flyrescue update -a my-app --select 'image:old -stuck' --dry-run`,
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
	root.AddGroup(
		&cobra.Group{ID: "look", Title: "Look at the fleet and the record:"},
		&cobra.Group{ID: "act", Title: "Act on machines:"},
		&cobra.Group{ID: "recover", Title: "Recover from an action:"},
		&cobra.Group{ID: "practise", Title: "Practise without an app:"},
		&cobra.Group{ID: "setup", Title: "Set up:"},
	)
	for _, add := range subcommands {
		cmd := add()
		cmd.GroupID = commandGroups[cmd.Name()]
		if v, ok := verbOfCommand(cmd.Name()); ok {
			cmd.GroupID = v.Command.Group
		}
		root.AddCommand(cmd)
	}
	return root
}

// usageExits makes every argument and flag error cobra finds (an unknown
// command or flag, a missing or extra argument, a bad flag value) exit 2
// and point at the command's help. Commands that set their own flag error
// function (the action commands) keep it. Call it after SetOut: cobra's
// completion command takes its output writer when it is added.
func usageExits(root *cobra.Command) {
	usage := func(c *cobra.Command, err error) error {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return &exitError{exitUsage, fmt.Errorf("%v (see `%s --help`)", err, c.CommandPath())}
	}
	root.SetFlagErrorFunc(usage)
	// cobra adds these two itself at Execute; add them now to reach them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return usage(cmd, err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// commandGroups sorts the commands in the root's help, as flyctl groups
// its own; the verbs' commands take their group from recovery's registry.
var commandGroups = map[string]string{
	"status": "look", "log": "look",
	"demo": "practise", "sim": "practise",
	"config": "setup",
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

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/recovery"
)

// The action commands come from recovery's verb registry: every verb planned
// on a selection of machines is generated here from its entry (name, help,
// group, --all, --force), and the ones with a shape of their own (scale,
// rollback, undo, resume) take their words from it.
func init() {
	for _, v := range recovery.Verbs() {
		if v.Command.Selects {
			subcommands = append(subcommands, func() *cobra.Command { return selectionCmd(v) })
		}
	}
	subcommands = append(subcommands, newScaleCmd, newRollbackCmd, newUndoCmd, newResumeCmd)
}

// verbFlags adds the flags a selection verb has beyond the shared ones and
// --force, filling its request from them.
var verbFlags = map[recovery.Kind]func(cmd *cobra.Command, req *recovery.VerbRequest){
	recovery.KindUpdate: func(cmd *cobra.Command, req *recovery.VerbRequest) {
		cmd.Flags().StringVar(&req.Image, "image", "", "Image to update to (default: the deploy's target, from the releases)")
		cmd.Flags().StringVar(&req.Label, "label", "", "Release label to set (default: derived from the image tag)")
		cmd.PreRunE = func(*cobra.Command, []string) error {
			if req.Image == "" {
				return nil
			}
			if err := validImageRef(req.Image); err != nil {
				return &exitError{exitUsage, err}
			}
			return nil
		}
	},
}

// verbOfCommand is the registry entry of a subcommand.
func verbOfCommand(name string) (recovery.VerbSpec, bool) {
	for _, v := range recovery.Verbs() {
		if v.Command.Name == name {
			return v, true
		}
	}
	return recovery.VerbSpec{}, false
}

// verbCommand is kind's command as the registry words it; tail is how the
// action runs, appended to its description.
func verbCommand(kind recovery.Kind, tail string) *cobra.Command {
	v, ok := recovery.VerbOf(kind)
	if !ok || v.Command.Name == "" {
		panic("flyrescue: no command for verb " + string(kind)) // a registry bug, caught by every test
	}
	c := v.Command
	use := c.Name
	if c.Args != "" {
		use += " " + c.Args
	}
	long := c.Long
	if long == "" {
		long = c.Short + "."
	}
	return &cobra.Command{Use: use, Short: c.Short, Long: long + tail, Example: c.Example}
}

// selectionCmd is a verb planned on the MACHINE_IDs given, or --select.
func selectionCmd(v recovery.VerbSpec) *cobra.Command {
	f := &actionFlags{}
	var req recovery.VerbRequest
	cmd := verbCommand(v.Kind, actionHow())
	cmd.Use = v.Command.Name + " [MACHINE_ID...]"
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := f.scopeError(v.Command.Name, args); err != nil {
			return err
		}
		return runAction(cmd, f, func(ctx context.Context, e *recovery.Engine) (*recovery.Plan, error) {
			r := req
			r.Selector = f.selector(args, "")
			return e.PlanVerb(ctx, v.Kind, r)
		})
	}
	f.add(cmd, true)
	if v.Force != "" {
		cmd.Flags().BoolVar(&req.Force, "force", false, v.Force)
	}
	if v.Command.Scoped {
		f.scoped = true
		cmd.Flags().BoolVar(&f.all, "all", false, "Act on every machine of the app (needed when no MACHINE_ID or --select is given)")
	}
	if extra := verbFlags[v.Kind]; extra != nil {
		extra(cmd, &req)
	}
	return cmd
}

// actionHow is the part of every action command's help that says how
// machines are chosen and how the action is carried out.
func actionHow() string {
	var scoped []string
	for _, v := range recovery.Verbs() {
		if v.Command.Scoped {
			scoped = append(scoped, v.Command.Name)
		}
	}
	return "\n\n" + fillText("Machines: the MACHINE_IDs given, else those --select matches, else every machine of the app ("+
		andList(scoped)+" ask for --all before they act on the whole app).", 98) + actionSafety
}

// andList joins "a", "b", "c" as "a, b and c".
func andList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// actionSafety is how every mutating command carries out its plan.
const actionSafety = `
The plan is printed and confirmed first (--yes skips the question, --dry-run stops there).
Each machine is leased, at most --max-unavailable per process group are down at once,
transient failures (429, 5xx, timeouts) are retried, the outcome is verified against live
state, and every step is journaled before it is sent: see "flyrescue log", "undo", "resume".`

func newScaleCmd() *cobra.Command {
	f := &actionFlags{}
	var region string
	var back bool
	cmd := verbCommand(recovery.KindScale, "\n"+actionSafety)
	cmd.Args = cobra.RangeArgs(1, 2)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		req := recovery.ScaleRequest{Group: args[0], Region: region, Back: back}
		f.readsJournal = back
		switch {
		case back && len(args) == 2:
			return &exitError{exitUsage, errors.New("give a COUNT or --back, not both")}
		case !back && len(args) < 2:
			return &exitError{exitUsage, errors.New("give a COUNT, or --back for the count the journal remembers")}
		case !back:
			n, err := strconv.Atoi(args[1])
			if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(args[1], "-") {
				return &exitError{exitUsage, fmt.Errorf("scale count %s is above the limit of %d machines per process group; give a smaller count", args[1], recovery.MaxScaleCount)}
			}
			if err != nil || n < 0 {
				return &exitError{exitUsage, countError(args[1])}
			}
			// Before connecting: a count this large is never planned.
			if err := recovery.CheckScaleCount(n); err != nil {
				return &exitError{exitUsage, err}
			}
			req.Count = n
		}
		return runAction(cmd, f, func(ctx context.Context, e *recovery.Engine) (*recovery.Plan, error) {
			return e.PlanScale(ctx, req)
		})
	}
	f.add(cmd, false)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// "scale web -1" reaches us as an unknown flag -1.
		if msg, neg, ok := strings.Cut(err.Error(), " in "); ok && strings.HasPrefix(msg, "unknown shorthand flag") {
			if _, aerr := strconv.Atoi(neg); aerr == nil {
				return &exitError{exitUsage, countError(neg)}
			}
		}
		return &exitError{exitUsage, fmt.Errorf("%v (see `flyrescue scale --help`)", err)}
	})
	cmd.Flags().StringVarP(&region, "region", "r", "", "Only this region")
	cmd.Flags().BoolVar(&back, "back", false, "Scale to the count the journal first recorded for the group")
	return cmd
}

func newRollbackCmd() *cobra.Command {
	f := &actionFlags{}
	var region, release string
	cmd := verbCommand(recovery.KindRollback, actionHow())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runAction(cmd, f, func(ctx context.Context, e *recovery.Engine) (*recovery.Plan, error) {
			return e.PlanRollback(ctx, recovery.RollbackRequest{Selector: f.selector(args, region), Release: release})
		})
	}
	f.add(cmd, true)
	cmd.Flags().StringVarP(&region, "region", "r", "", "Only this region")
	cmd.Flags().StringVar(&release, "release", "", "Release to go back to, e.g. v61 (default: the last complete one before the target)")
	return cmd
}

func newUndoCmd() *cobra.Command {
	var includeChanged bool
	cmd := newJournalActionCmd(recovery.KindUndo, "\n\n"+inverses(),
		func(e *recovery.Engine, ctx context.Context, id string) (*recovery.Plan, error) {
			return e.PlanUndoWith(ctx, recovery.UndoRequest{ActionID: id, IncludeChanged: includeChanged})
		})
	cmd.Flags().BoolVar(&includeChanged, "include-changed", false, "Also put back machines that changed since the action, overwriting that later change")
	return cmd
}

// inverses says, from the ops registry, what undo does to each step.
func inverses() string {
	var undone, kept []string
	for _, o := range recovery.Ops() {
		if o.Inverse != "" {
			undone = append(undone, fmt.Sprintf("%s by %s", o.Op, o.Inverse))
			if o.Inverse == o.Op {
				undone[len(undone)-1] = fmt.Sprintf("%s by an %s to the config saved before it", o.Op, o.Op)
			}
		} else {
			kept = append(kept, fmt.Sprintf("%s (%s)", o.Op, o.NoInverse))
		}
	}
	return fillText("Each step is undone by its inverse: "+strings.Join(undone, ", ")+". Left as they are: "+strings.Join(kept, ", ")+".", 98)
}

// fillText wraps text into lines of at most width, for help read in a terminal.
func fillText(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		if n > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

func newResumeCmd() *cobra.Command {
	return newJournalActionCmd(recovery.KindResume, "", (*recovery.Engine).PlanResume)
}

// newJournalActionCmd builds a command that plans from a journaled action
// (the newest fitting one when ACTION is not given) and runs that plan.
func newJournalActionCmd(kind recovery.Kind, more string, plan func(*recovery.Engine, context.Context, string) (*recovery.Plan, error)) *cobra.Command {
	f := &actionFlags{}
	cmd := verbCommand(kind, more+"\n"+actionSafety)
	cmd.Args = cobra.MaximumNArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id := ""
		if len(args) == 1 {
			id = args[0]
		}
		return runAction(cmd, f, func(ctx context.Context, e *recovery.Engine) (*recovery.Plan, error) {
			return plan(e, ctx, id)
		})
	}
	f.add(cmd, false)
	return cmd
}

func countError(arg string) error {
	return fmt.Errorf("COUNT %q is not a number of machines: give a whole number, 0 or more (e.g. `flyrescue scale web 12`), or --back", arg)
}

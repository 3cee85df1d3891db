package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/config"
	"github.com/flyrescue/flyrescue/recovery"
)

func init() { subcommands = append(subcommands, newLogCmd) }

// logAction is one action as `log --json` prints it.
type logAction struct {
	ID        string            `json:"id"`
	Kind      recovery.Kind     `json:"kind"`
	At        time.Time         `json:"at"`
	App       string            `json:"app"`
	Operator  string            `json:"operator"`
	Selection string            `json:"selection"`
	Args      map[string]string `json:"args,omitempty"`
	Undoes    *string           `json:"undoes"`
	UndoneBy  *string           `json:"undone_by"`
	Resumes   *string           `json:"resumes"`
	Notes     []string          `json:"notes,omitempty"`
	Machines  []logMachine      `json:"machines"`
	// Pending counts planned steps that never began (the run ended first).
	Pending int `json:"pending"`
}

type logMachine struct {
	ID           string           `json:"id"`
	Seq          int              `json:"seq"`
	Op           recovery.Op      `json:"op"`
	Outcome      recovery.Outcome `json:"outcome"`
	Error        string           `json:"error"`
	NewMachineID string           `json:"new_machine_id,omitempty"`
	Attempts     int              `json:"attempts,omitempty"`
}

func newLogCmd() *cobra.Command {
	var conn connection
	var jsonOut bool
	var dir string
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the app's action journal: what was done, to which machines, and how it ended",
		Long: `Reads the journal flyrescue keeps per app (one JSON line per action, intent and outcome). A step
with an intent but no outcome was interrupted (the process died): ` + "`flyrescue resume`" + ` reconciles it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			app, err := config.App(conn.app, conn.configPath, os.Getenv)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			recs, warning, err := recovery.ReadJournal(recovery.JournalPath(dir, app))
			if err != nil {
				return &exitError{exitJournal, err}
			}
			if warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", warning)
			}
			hist := recovery.History(recs)
			if jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(logJSON(hist))
			}
			printLog(cmd.OutOrStdout(), app, hist)
			return nil
		},
	}
	conn.addFlags(cmd)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print a JSON array of actions")
	cmd.Flags().StringVar(&dir, "journal-dir", "", "where the action journal lives (default: FLYRESCUE_STATE_DIR, else $XDG_STATE_HOME/flyrescue)")
	return cmd
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func logJSON(hist []*recovery.ActionLog) []logAction {
	out := make([]logAction, 0, len(hist))
	for _, a := range hist {
		la := logAction{
			ID: a.Action.ID, Kind: a.Action.Kind, At: a.At, App: a.Action.App, Operator: a.Action.Operator,
			Selection: a.Action.Selection, Args: a.Action.Args, Undoes: strOrNil(a.Action.Undoes),
			UndoneBy: strOrNil(a.UndoneBy), Resumes: strOrNil(a.Action.Resumes), Notes: a.Action.Notes,
			Machines: []logMachine{},
		}
		for _, m := range a.Machines {
			st := m.Status()
			if st == "" {
				la.Pending++
				continue
			}
			lm := logMachine{ID: m.MachineID, Seq: m.Seq, Op: m.Op, Outcome: st}
			if m.Outcome != nil {
				lm.Error, lm.NewMachineID, lm.Attempts = m.Outcome.Error, m.Outcome.NewMachineID, m.Outcome.Attempts
			} else {
				lm.Error = "no outcome recorded: the process stopped mid-step (run `flyrescue resume`)"
			}
			la.Machines = append(la.Machines, lm)
		}
		out = append(out, la)
	}
	return out
}

func printLog(w io.Writer, app string, hist []*recovery.ActionLog) {
	if len(hist) == 0 {
		fmt.Fprintf(w, "No actions journaled for %s.\n", app)
		return
	}
	for _, a := range hist {
		c := a.Counts()
		fmt.Fprintf(w, "%s  %s  %-8s by %s  %s: %d ok, %d failed, %d skipped, %d interrupted",
			a.Action.ID, a.At.Local().Format("2006-01-02 15:04:05"), a.Action.Kind, a.Action.Operator, a.Action.Selection,
			c[recovery.OutcomeOK], c[recovery.OutcomeFailed], c[recovery.OutcomeSkipped], c[recovery.OutcomeInterrupted])
		if c[""] > 0 {
			fmt.Fprintf(w, ", %d never started", c[""])
		}
		fmt.Fprintln(w)
		var tags []string
		if a.Action.Undoes != "" {
			tags = append(tags, "undoes "+a.Action.Undoes)
		}
		if a.UndoneBy != "" {
			tags = append(tags, "undone by "+a.UndoneBy)
		}
		if a.Action.Resumes != "" {
			tags = append(tags, "resumes "+a.Action.Resumes)
		}
		if len(a.ResumedBy) > 0 {
			tags = append(tags, "resumed by "+strings.Join(a.ResumedBy, ", "))
		}
		if len(tags) > 0 {
			fmt.Fprintf(w, "    (%s)\n", strings.Join(tags, "; "))
		}
		for _, m := range a.Machines {
			if st := m.Status(); st == recovery.OutcomeFailed || st == recovery.OutcomeInterrupted {
				reason := "no outcome recorded: interrupted mid-step"
				if m.Outcome != nil {
					reason = m.Outcome.Error
				}
				fmt.Fprintf(w, "    %-11s %-16s %-8s %s\n", st, m.MachineID, m.Op, reason)
			}
		}
	}
}

func init() { subcommands = append(subcommands, newUndoCmd, newResumeCmd) }

func newUndoCmd() *cobra.Command {
	f := &actionFlags{}
	cmd := &cobra.Command{
		Use:   "undo [ACTION]",
		Short: "Undo an action from the journal (default: the newest not yet undone)",
		Long: `Builds the inverse of a journaled action from what it recorded: updates go back to the saved
configs, destroyed machines are relaunched from their saved configs (as NEW machines, same region and
group), scaling is reversed, stop and start swap. A restart cannot be undone; nor can an action twice.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return runAction(cmd, f, func(ctx context.Context, e *recovery.Engine) (*recovery.Plan, error) {
				return e.PlanUndo(ctx, id)
			})
		},
	}
	f.add(cmd, false)
	return cmd
}

func newResumeCmd() *cobra.Command {
	f := &actionFlags{}
	cmd := &cobra.Command{
		Use:   "resume [ACTION]",
		Short: "Finish an action that was interrupted (the process died or was cancelled)",
		Long: `Reconciles steps that began but have no outcome against live state: the ones that happened are
marked done in the journal; the rest, and steps that never began, are offered to run again.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return runAction(cmd, f, func(ctx context.Context, e *recovery.Engine) (*recovery.Plan, error) {
				return e.PlanResume(ctx, id)
			})
		},
	}
	f.add(cmd, false)
	return cmd
}

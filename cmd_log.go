package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/config"
	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/recovery"
)

func init() { subcommands = append(subcommands, newLogCmd) }

// logAction is one action as `log --json` prints it.
type logAction struct {
	ID        string            `json:"id"`
	DisplayID string            `json:"display_id"` // the form people see, which names the action too
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
	var jsonOut, mdOut bool
	var dir, since, actionID, kinds string
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the app's action journal: what was done, to which machines, and how it ended",
		Long: `Reads the journal flyrescue keeps per app (one JSON line per action, intent and outcome). A step
with an intent but no outcome was interrupted (the process died): ` + "`flyrescue resume`" + ` reconciles it.

--markdown prints an incident timeline (operator, UTC times, machines, outcomes, failures, undo and
resume links) to paste into an incident channel. --since, --action and --kind filter every format.`,
		Example: "  flyrescue log -a my-app --markdown --since 2h\n  flyrescue log -a my-app --json --kind update,destroy",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			app, err := config.App(conn.app, conn.configPath, os.Getenv)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			if jsonOut && mdOut {
				return &exitError{exitUsage, errors.New("give --json or --markdown, not both")}
			}
			filt, err := parseLogFilter(since, actionID, kinds, time.Now())
			if err != nil {
				return &exitError{exitUsage, err}
			}
			path, err := recovery.JournalPath(dir, app)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			recs, warning, err := recovery.ReadJournal(path)
			if err != nil {
				return &exitError{exitJournal, err}
			}
			if warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", warning)
			}
			// Journals written by older versions may hold a token in an error
			// text: the token this run would use is redacted with the rest.
			if token, _, err := config.Token(conn.accessToken, os.Getenv); err == nil {
				flyclient.RegisterSecret(token)
			}
			hist := recovery.History(recs)
			printableHistory(hist)
			if actionID != "" {
				a, err := recovery.FindAction(hist, actionID)
				if err != nil {
					return &exitError{exitNotFound, err}
				}
				filt.action = a.Action.ID // a display form or other suffix, made whole
			}
			hist = filt.apply(hist)
			if mdOut {
				printMarkdown(cmd.OutOrStdout(), app, hist, filt, time.Now())
				return nil
			}
			if jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(logJSON(hist))
			}
			printLog(cmd.OutOrStdout(), app, hist, filt)
			return nil
		},
	}
	conn.addFlags(cmd)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "Print a JSON array of actions")
	cmd.Flags().BoolVar(&mdOut, "markdown", false, "Print an incident timeline in Markdown, to paste into an incident channel")
	cmd.Flags().StringVar(&since, "since", "", "Only actions since a duration ago (2h, 30m) or an RFC3339 time")
	cmd.Flags().StringVar(&actionID, "action", "", "Only this action ID")
	cmd.Flags().StringVar(&kinds, "kind", "", "Only these kinds, comma-separated (update,destroy,...)")
	kindNames := make([]string, len(allKinds))
	for i, k := range allKinds {
		kindNames[i] = string(k)
	}
	completeValues(cmd, "kind", kindNames...)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{exitUsage, fmt.Errorf("%v (see `flyrescue log --help`)", err)}
	})
	cmd.Flags().StringVar(&dir, "journal-dir", "", "Where the action journal lives (default: FLYRESCUE_STATE_DIR, else $XDG_STATE_HOME/flyrescue)")
	return cmd
}

// printableHistory redacts secrets and escapes control characters in the
// journal's free text, for every format: the journal is a file anyone may
// have edited, and was written by versions that redacted less. (JSON keeps
// the escapes as text, so `jq -r` cannot replay them either.)
func printableHistory(hist []*recovery.ActionLog) {
	for _, a := range hist {
		act := &a.Action
		act.ID, act.App, act.Operator = flyclient.PrintableLine(act.ID), flyclient.PrintableLine(act.App), flyclient.PrintableLine(act.Operator)
		act.Selection, act.Undoes, act.Resumes = flyclient.PrintableLine(act.Selection), flyclient.PrintableLine(act.Undoes), flyclient.PrintableLine(act.Resumes)
		if act.Args != nil {
			args := make(map[string]string, len(act.Args))
			for k, v := range act.Args {
				args[flyclient.PrintableLine(k)] = flyclient.PrintableLine(v)
			}
			act.Args = args
		}
		for i, n := range act.Notes {
			act.Notes[i] = flyclient.PrintableLine(n)
		}
		a.UndoneBy = flyclient.PrintableLine(a.UndoneBy)
		for i, id := range a.ResumedBy {
			a.ResumedBy[i] = flyclient.PrintableLine(id)
		}
		for i := range a.Machines {
			m := &a.Machines[i]
			m.MachineID = flyclient.PrintableLine(m.MachineID)
			if o := m.Outcome; o != nil {
				o.Error, o.NewMachineID = flyclient.PrintableLine(o.Error), flyclient.PrintableLine(o.NewMachineID)
			}
		}
	}
}

// displayIDs shows a list of action IDs as people see them.
func displayIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = recovery.DisplayID(id)
	}
	return out
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
			ID: a.Action.ID, DisplayID: recovery.DisplayID(a.Action.ID), Kind: a.Action.Kind, At: a.At, App: a.Action.App, Operator: a.Action.Operator,
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
			lm.Error = a.StepWhy(m, cliResumeHint)
			if m.Outcome != nil {
				lm.NewMachineID, lm.Attempts = m.Outcome.NewMachineID, m.Outcome.Attempts
			}
			la.Machines = append(la.Machines, lm)
		}
		out = append(out, la)
	}
	return out
}

func printLog(w io.Writer, app string, hist []*recovery.ActionLog, filt logFilter) {
	if len(hist) == 0 {
		if d := filt.describe(); d != "" {
			fmt.Fprintf(w, "No actions journaled for %s match (%s).\n", app, d)
			return
		}
		fmt.Fprintf(w, "No actions journaled for %s.\n", app)
		return
	}
	for _, a := range hist {
		c := a.Counts()
		fmt.Fprintf(w, "%s  %s  %-8s by %s  %s: %s\n",
			recovery.DisplayID(a.Action.ID), a.At.Local().Format("2006-01-02 15:04:05"), a.Action.Kind, a.Action.Operator, a.Action.Selection, outcomeCounts(c))
		var tags []string
		if a.Action.Undoes != "" {
			tags = append(tags, "undoes "+recovery.DisplayID(a.Action.Undoes))
		}
		if a.UndoneBy != "" {
			tags = append(tags, "undone by "+recovery.DisplayID(a.UndoneBy))
		}
		if a.Action.Resumes != "" {
			tags = append(tags, "resumes "+recovery.DisplayID(a.Action.Resumes))
		}
		if len(a.ResumedBy) > 0 {
			tags = append(tags, "resumed by "+strings.Join(displayIDs(a.ResumedBy), ", "))
		}
		if len(tags) > 0 {
			fmt.Fprintf(w, "    (%s)\n", strings.Join(tags, "; "))
		}
		if u := a.UnfinishedText(); u != "" {
			fmt.Fprintf(w, "    %s\n", u)
		}
		for _, m := range a.Machines {
			if st := m.Status(); st == recovery.OutcomeFailed || st == recovery.OutcomeInterrupted {
				fmt.Fprintf(w, "    %-11s %-16s %-8s %s\n", st, m.MachineID, m.Op, a.StepWhy(m, cliResumeHint))
			}
		}
		for _, s := range a.Action.Held {
			fmt.Fprintf(w, "    %-11s %-16s %-8s %s\n", "left out", s.MachineID, s.Op, s.Reason)
		}
	}
}

// cliResumeHint says how to pick up an interrupted step from a shell.
const cliResumeHint = "`flyrescue resume` picks it up"

// outcomeCounts: "12 ok, 1 failed, 0 skipped, 0 interrupted, 3 halted,
// 2 never started" (the last two only when there are some), in the words
// the dashboard's journal uses.
func outcomeCounts(c map[recovery.Outcome]int) string {
	return recovery.CountsText(c, recovery.OutcomeOK, recovery.OutcomeFailed, recovery.OutcomeSkipped, recovery.OutcomeInterrupted)
}

// allKinds are the action kinds --kind accepts: the ones the journal records.
var allKinds = recovery.JournaledKinds()

// logFilter selects the actions `log` shows, in every format.
type logFilter struct {
	since    time.Time // zero: no bound
	sinceArg string
	action   string
	kinds    map[recovery.Kind]bool
	kindArg  string
}

func parseLogFilter(since, action, kinds string, now time.Time) (logFilter, error) {
	f := logFilter{sinceArg: since, action: action, kindArg: kinds}
	if since != "" {
		if d, err := time.ParseDuration(since); err == nil {
			f.since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, since); err == nil {
			f.since = t
		} else {
			return f, fmt.Errorf("--since %q: give a duration like 2h or 90m, or an RFC3339 time like 2006-01-02T15:04:05Z", since)
		}
	}
	if kinds != "" {
		f.kinds = map[recovery.Kind]bool{}
		names := make([]string, len(allKinds))
		for i, k := range allKinds {
			names[i] = string(k)
		}
		for _, k := range strings.Split(kinds, ",") {
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" {
				continue
			}
			known := false
			for _, a := range allKinds {
				known = known || string(a) == k
			}
			if !known {
				return f, fmt.Errorf("--kind %q: unknown kind %q; kinds are %s", kinds, k, strings.Join(names, ", "))
			}
			f.kinds[recovery.Kind(k)] = true
		}
	}
	return f, nil
}

func (f logFilter) apply(hist []*recovery.ActionLog) []*recovery.ActionLog {
	var out []*recovery.ActionLog
	for _, a := range hist {
		switch {
		case !f.since.IsZero() && a.At.Before(f.since):
		case f.action != "" && a.Action.ID != f.action:
		case f.kinds != nil && !f.kinds[a.Action.Kind]:
		default:
			out = append(out, a)
		}
	}
	return out
}

// describe is the filters in force, for the reader ("" when none).
func (f logFilter) describe() string {
	var parts []string
	if f.sinceArg != "" {
		parts = append(parts, "since "+f.since.UTC().Format("2006-01-02 15:04:05")+" UTC")
	}
	if f.action != "" {
		parts = append(parts, "action "+recovery.DisplayID(f.action))
	}
	if f.kindArg != "" {
		parts = append(parts, "kind "+f.kindArg)
	}
	return strings.Join(parts, ", ")
}

// undoable: the registry knows no reason an action of kind cannot be undone.
func undoable(kind recovery.Kind) bool {
	v, ok := recovery.VerbOf(kind)
	return !ok || v.NoUndo() == ""
}

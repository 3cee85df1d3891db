package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// mdMachineIDs is how many machine IDs the timeline names before "and N more".
const mdMachineIDs = 10

func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }

// printMarkdown writes the journal as an incident timeline: who did what,
// when, to which machines, how it ended, and how to undo or resume it.
func printMarkdown(w io.Writer, app string, hist []*recovery.ActionLog, filt logFilter, now time.Time) {
	fmt.Fprintf(w, "## flyrescue actions on %s\n\n", app)
	scope := "all journaled actions"
	if d := filt.describe(); d != "" {
		scope = d
	}
	fmt.Fprintf(w, "_Exported %s; %s; %s._\n", utc(now), scope, model.Counted(len(hist), "action"))
	if len(hist) == 0 {
		fmt.Fprintf(w, "\nNo actions journaled for %s match (%s).\n", app, scope)
		return
	}
	for _, a := range hist {
		c := a.Counts()
		fmt.Fprintf(w, "\n### %s: %s by %s\n\n", utc(a.At), a.Action.Kind, a.Action.Operator)
		id := recovery.DisplayID(a.Action.ID)
		fmt.Fprintf(w, "- **Action** `%s` (%s), selection: %s\n", id, a.Action.Kind, mdText(a.Action.Selection))
		fmt.Fprintf(w, "- **Operator** %s, at %s\n", a.Action.Operator, utc(a.At))
		if args := mdArgs(a.Action.Args); args != "" {
			fmt.Fprintf(w, "- **Args** %s\n", args)
		}
		var ids []string
		for _, m := range a.Machines {
			id := m.MachineID
			if id == "" && m.Outcome != nil && m.Outcome.NewMachineID != "" {
				id = m.Outcome.NewMachineID + " (new)"
			}
			if id == "" {
				id = "(new)"
			}
			ids = append(ids, "`"+id+"`")
		}
		more := ""
		if len(ids) > mdMachineIDs {
			more = fmt.Sprintf(" and %d more", len(ids)-mdMachineIDs)
			ids = ids[:mdMachineIDs]
		}
		fmt.Fprintf(w, "- **Machines** %d: %s%s\n", len(a.Machines), strings.Join(ids, ", "), more)
		fmt.Fprintf(w, "- **Outcome** %s\n", outcomeCounts(c))
		if u := a.UnfinishedText(); u != "" {
			fmt.Fprintf(w, "- **Unfinished** %s\n", u)
		}
		var failures []string
		for _, m := range a.Machines {
			if st := m.Status(); st == recovery.OutcomeFailed || st == recovery.OutcomeInterrupted {
				failures = append(failures, fmt.Sprintf("  - `%s` %s %s: %s", m.MachineID, m.Op, st, mdText(a.StepWhy(m, cliResumeHint))))
			}
		}
		if len(failures) > 0 {
			fmt.Fprintln(w, "- **Failures**")
			fmt.Fprintln(w, strings.Join(failures, "\n"))
		}
		if a.Action.Undoes != "" {
			fmt.Fprintf(w, "- **Undoes** `%s`\n", recovery.DisplayID(a.Action.Undoes))
		}
		if a.Action.Resumes != "" {
			fmt.Fprintf(w, "- **Resumes** `%s`\n", recovery.DisplayID(a.Action.Resumes))
		}
		if len(a.ResumedBy) > 0 {
			fmt.Fprintf(w, "- **Resumed by** `%s`\n", strings.Join(displayIDs(a.ResumedBy), "`, `"))
		}
		switch {
		case a.UndoneBy != "":
			fmt.Fprintf(w, "- **Undone by** `%s`\n", recovery.DisplayID(a.UndoneBy))
		case undoable(a.Action.Kind) && c[recovery.OutcomeOK] > 0:
			fmt.Fprintf(w, "- **Undo** `flyrescue undo -a %s %s`\n", app, id)
		}
		if (c[recovery.OutcomeInterrupted] > 0 || c[""] > 0 || c[recovery.OutcomeHalted] > 0) && len(a.ResumedBy) == 0 {
			fmt.Fprintf(w, "- **Resume** `flyrescue resume -a %s %s`\n", app, id)
		}
	}
}

// mdText keeps free text from breaking the Markdown around it.
func mdText(s string) string {
	if s == "" {
		return "(all)"
	}
	return strings.NewReplacer("\n", " ", "`", "'", "|", "\\|").Replace(s)
}

func mdArgs(args map[string]string) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=`%s`", k, strings.ReplaceAll(args[k], "`", "'")))
	}
	return strings.Join(parts, ", ")
}

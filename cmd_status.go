package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

func init() { subcommands = append(subcommands, newStatusCmd) }

type statusOptions struct {
	conn       connection
	image      string
	jsonOut    bool
	stuckAfter time.Duration
	labelEnv   string
	timeout    time.Duration
	journalDir string
}

func newStatusCmd() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Survey the fleet once: images, states, stuck machines and the runbook's advice",
		Long: `Polls the app once and prints the survey the runbook starts with: how many Machines run the
deploy's target image and how many an older one, their states per process group, the stuck
ones, which runbook case the deploy is in and the advised next step with its exact machines.

It also reads the incident: the journal (read, never written) and the marks flyrescue leaves in
machine metadata say what was done, so the verdict follows the operators' intent.
  baseline   each process group's count before the incident: from the journal's first action,
             else the counts now
  target     image, release, source (flag | release | rollback | metadata | machines), since, by:
             after a rollback (this journal's, or another flyrescue's read from machine marks) the
             rolled-back release stays the target until a newer release appears; a one-region
             rollback sets its region's target (regions); --image wins
  in_flight  machines transitional, or started with checks not yet passing, for less than
             --stuck-after
  others     who else is acting: kind lease (holder, machines), deploy (a release still running),
             unexplained (only the dashboard, which compares polls, can see those)
  left       what stands between the fleet and the end of the incident; empty only when done
"deploy" is "complete" only when nothing is left; "in_progress" when a deploy is running or every
machine is on target but something is left.`,
		Example: `  flyrescue status -a my-app
  flyrescue status -a my-app --json | jq .advice
  flyrescue status -a my-app --image registry.fly.io/my-app:deployment-01HX...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.conn.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.image, "image", "", "The deploy's target image (default: the newest release's image)")
	f.BoolVar(&o.jsonOut, "json", false, "Print one JSON object")
	f.DurationVar(&o.stuckAfter, "stuck-after", model.DefaultStuckAfter, "How long in a transitional state makes a machine stuck")
	f.StringVar(&o.labelEnv, "label-env", flyclient.DefaultLabelEnv, "Env var that carries the release label")
	f.DurationVar(&o.timeout, "timeout", 60*time.Second, "Give up on the API after this long")
	f.StringVar(&o.journalDir, "journal-dir", "", "Where the action journal lives, read for the incident (default: FLYRESCUE_STATE_DIR, else $XDG_STATE_HOME/flyrescue)")
	return cmd
}

func runStatus(ctx context.Context, out io.Writer, o *statusOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	client, app, err := o.conn.connect(ctx)
	if err != nil {
		return err
	}
	if o.image != "" {
		if err := validImageRef(o.image); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	survey, err := client.Survey(ctx, app, o.labelEnv)
	if err != nil {
		return apiExit(err)
	}
	facts, journalWarning := journalFacts(o.journalDir, app)
	target := model.FollowIntent(model.ChooseTarget(o.image, survey.Releases, survey.Machines), survey.Releases, survey.Machines, facts)
	snap := model.NewSnapshot(app, survey.Machines, survey.Releases, target, model.Options{StuckAfter: o.stuckAfter, Now: survey.At})
	facts.Leases = client.ProbeLeases(ctx, app, snap.LeaseCandidates())
	facts.Operator = recovery.DefaultOperator()
	inc := model.BuildIncident(snap, facts, survey.At)
	verdict := model.ClassifyIncident(snap, &inc)
	if o.jsonOut {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(statusJSON(snap, &inc, verdict))
	}
	printStatus(out, snap, &inc, verdict, survey.ReleasesErr)
	if journalWarning != "" {
		fmt.Fprintf(out, "\nWarning: %s\n", flyclient.PrintableLine(journalWarning))
	}
	return nil
}

// journalFacts reads what the app's journal knows of the incident, without
// opening it for writing. A journal that cannot be read gives no facts and
// a warning: status must still show the fleet.
func journalFacts(dir, app string) (model.IncidentFacts, string) {
	path, err := recovery.JournalPath(dir, app)
	if err != nil {
		return model.IncidentFacts{}, err.Error()
	}
	recs, _, err := recovery.ReadJournal(path)
	if err != nil {
		return model.IncidentFacts{}, fmt.Sprintf("the journal cannot be read (%v); the incident is judged without it", err)
	}
	return recovery.IncidentFacts(recovery.History(recs), app), ""
}

// validImageRef rejects what cannot be an image reference before anything is
// sent.
func validImageRef(image string) error {
	if strings.ContainsAny(image, " \t\n") || strings.HasPrefix(image, "-") || strings.HasSuffix(image, ":") || !strings.ContainsAny(image, ":@") {
		return fmt.Errorf("invalid image reference %q: expected REGISTRY/REPO:TAG (e.g. registry.fly.io/my-app:deployment-01HX...)", image)
	}
	return nil
}

type statusReport struct {
	App         string          `json:"app"`
	TargetImage string          `json:"target_image"`
	TargetFrom  string          `json:"target_source"`
	Total       int             `json:"total"`
	OnTarget    int             `json:"on_target"`
	Deploy      string          `json:"deploy"`
	Summary     string          `json:"summary"`
	Stuck       []string        `json:"stuck"`
	Advice      []adviceJSON    `json:"advice"`
	BadRelease  *badReleaseJSON `json:"bad_release"`
	Groups      []groupJSON     `json:"groups"`
	States      map[string]int  `json:"states"`
	Incident    incidentJSON    `json:"incident"`
}

type incidentJSON struct {
	Baseline     map[string]int `json:"baseline"`
	BaselineFrom string         `json:"baseline_from"`
	Target       targetJSON     `json:"target"`
	InFlight     int            `json:"in_flight"`
	Others       []otherJSON    `json:"others"`
	Left         []string       `json:"left"`
	Done         bool           `json:"done"`
}

type targetJSON struct {
	Image   string                `json:"image"`
	Release string                `json:"release,omitempty"`
	Source  string                `json:"source"`
	Since   *time.Time            `json:"since,omitempty"`
	By      string                `json:"by,omitempty"`
	Regions map[string]targetJSON `json:"regions,omitempty"`
}

type otherJSON struct {
	Kind     string     `json:"kind"`
	Holder   string     `json:"holder,omitempty"`
	Machines []string   `json:"machines"`
	Since    *time.Time `json:"since,omitempty"`
	What     string     `json:"what"`
}

func targetReport(t model.Target) targetJSON {
	out := targetJSON{Image: t.Image, Source: string(t.Source), By: t.By}
	if t.Source == model.TargetFromReleases {
		out.Source = "release"
	}
	if t.Release != nil {
		out.Release = fmt.Sprintf("v%d", t.Release.Version)
	}
	if !t.Since.IsZero() {
		since := t.Since.UTC()
		out.Since = &since
	}
	for region, rt := range t.ByRegion {
		if out.Regions == nil {
			out.Regions = map[string]targetJSON{}
		}
		out.Regions[region] = targetReport(rt)
	}
	return out
}

func incidentReport(inc *model.Incident) incidentJSON {
	r := incidentJSON{Baseline: inc.Baseline, BaselineFrom: inc.BaselineFrom, Target: targetReport(inc.Target),
		InFlight: inc.InFlight(), Others: []otherJSON{}, Left: append([]string{}, inc.Left...), Done: inc.Done}
	for _, o := range inc.Others {
		oj := otherJSON{Kind: string(o.Kind), Holder: o.Holder, Machines: append([]string{}, o.Machines...), What: o.What}
		if !o.Since.IsZero() {
			since := o.Since.UTC()
			oj.Since = &since
		}
		r.Others = append(r.Others, oj)
	}
	return r
}

type adviceJSON struct {
	Action   string   `json:"action"`
	Machines []string `json:"machines"`
	Why      string   `json:"why"`
	Group    string   `json:"group,omitempty"`
	Count    int      `json:"count,omitempty"`
	Force    bool     `json:"force,omitempty"`
	Image    string   `json:"image,omitempty"`
}

type badReleaseJSON struct {
	Version int    `json:"version"`
	Image   string `json:"image"`
}

type groupJSON struct {
	Name     string         `json:"name"`
	Total    int            `json:"total"`
	OnTarget int            `json:"on_target"`
	Ready    int            `json:"ready"`
	States   map[string]int `json:"states"`
}

func statusJSON(s *model.Snapshot, inc *model.Incident, c model.Classification) statusReport {
	r := statusReport{
		App: s.App, TargetImage: s.Target.Image, TargetFrom: string(s.Target.Source),
		Total: len(s.Machines), OnTarget: s.OnTarget, Deploy: string(c.Case), Summary: c.Summary,
		Stuck: append([]string{}, s.Stuck...), Advice: []adviceJSON{}, Groups: []groupJSON{}, States: s.States,
		Incident: incidentReport(inc),
	}
	for _, a := range c.Advice {
		r.Advice = append(r.Advice, adviceJSON{Action: string(a.Action), Machines: append([]string{}, a.Machines...), Why: a.Why,
			Group: a.Group, Count: a.Count, Force: a.Force, Image: a.Image})
	}
	if c.BadRelease != nil {
		r.BadRelease = &badReleaseJSON{Version: c.BadRelease.Version, Image: c.BadRelease.Image}
	}
	for _, g := range s.Groups {
		r.Groups = append(r.Groups, groupJSON{Name: g.Name, Total: g.Total, OnTarget: g.OnTarget, Ready: g.Ready, States: g.States})
	}
	return r
}

func printStatus(w io.Writer, s *model.Snapshot, inc *model.Incident, c model.Classification, releasesErr error) {
	fmt.Fprintf(w, "App %s: %s, %d on the target image (%s)\n", s.App, model.Counted(len(s.Machines), "machine"), s.OnTarget, percent(s.OnTarget, len(s.Machines)))
	target := s.Target.Image
	if target == "" {
		target = "(unknown)"
	}
	from := string(s.Target.Source)
	if s.Target.Release != nil {
		from += fmt.Sprintf(", release v%d %s", s.Target.Release.Version, s.Target.Release.Status)
	}
	fmt.Fprintf(w, "Target %s (from %s)\n", target, from)
	fmt.Fprintf(w, "Intent %s\n", s.Target.Describe())
	if releasesErr != nil {
		fmt.Fprintf(w, "Warning: releases unavailable (%s); the target was guessed from the machines\n", flyclient.PrintableLine(releasesErr.Error()))
	}
	fmt.Fprintf(w, "States %s\n\n", formatStates(s.States))

	fmt.Fprintf(w, "%-20s %6s %16s %6s  %s\n", "GROUP", "TOTAL", "ON TARGET", "READY", "STATES")
	for _, g := range s.Groups {
		fmt.Fprintf(w, "%-20s %6d %9d (%4s) %6d  %s\n", g.Name, g.Total, g.OnTarget, percent(g.OnTarget, g.Total), g.Ready, formatStates(g.States))
	}
	fmt.Fprintln(w)
	for _, ig := range s.ImageGroups {
		fmt.Fprintf(w, "%-6s %-48s %5d %s\n", ig.Kind, ig.Tag, ig.Count, model.Agree(ig.Count, "machine", "machines"))
	}
	if len(s.Stuck) > 0 {
		// The same words and counts as the dashboard: the states above
		// count failed and stuck apart, the runbook destroys both.
		fmt.Fprintf(w, "\n%s (%d: %d failed, %d stuck):\n", strings.ToUpper(model.FailedOrStuck[:1])+model.FailedOrStuck[1:], len(s.Stuck),
			s.States[model.StateFailed], s.States[model.StateStuck])
		for _, id := range s.Stuck {
			m, _ := s.Machine(id)
			fmt.Fprintf(w, "  %s  %-17s %-10s %s for %s\n", m.ID, m.Group, m.Region, m.State, since(s.At, m.StateSince))
		}
	}
	fmt.Fprintf(w, "\nBaseline (%s): %s\n", inc.BaselineFrom, formatStates(inc.Baseline))
	for _, o := range inc.Others {
		who := o.Holder
		if who == "" {
			who = "someone"
		}
		fmt.Fprintf(w, "Others acting: %s %s %s", o.Kind, who, o.What)
		if len(o.Machines) > 0 {
			fmt.Fprintf(w, " on %s", idList(o.Machines, 6))
		}
		fmt.Fprintln(w)
	}
	if inc.Done {
		fmt.Fprintln(w, "Left: nothing; the incident is over")
	} else {
		fmt.Fprintf(w, "Left (%d):\n", len(inc.Left))
		for _, l := range inc.Left {
			fmt.Fprintf(w, "  - %s\n", l)
		}
	}
	fmt.Fprintf(w, "\nRunbook: %s\n", c.Summary)
	if c.BadRelease != nil {
		fmt.Fprintf(w, "Bad release: roll back to v%d (%s)\n", c.BadRelease.Version, c.BadRelease.Image)
	}
	for i, a := range c.Advice {
		fmt.Fprintf(w, "  %d. %s\n", i+1, a.Title())
		fmt.Fprintf(w, "     %s\n", a.Why)
		if len(a.Machines) > 0 {
			fmt.Fprintf(w, "     machines: %s\n", idList(a.Machines, 12))
		}
	}
}

func formatStates(states map[string]int) string {
	keys := make([]string, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if oi, oj := model.StateOrder(keys[i]), model.StateOrder(keys[j]); oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, states[k]))
	}
	return strings.Join(parts, ", ")
}

func idList(ids []string, most int) string {
	if len(ids) <= most {
		return strings.Join(ids, " ")
	}
	return strings.Join(ids[:most], " ") + fmt.Sprintf(" … and %d more", len(ids)-most)
}

func percent(n, total int) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", n*100/total)
}

func since(now, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return now.Sub(t).Truncate(time.Second).String()
}

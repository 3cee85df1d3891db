package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
	"github.com/flyrescue/flyrescue/recovery"
)

// printPlan shows a plan before it runs: what, on how many machines, within
// which limits, summed up by group and change (every step with every).
func printPlan(w io.Writer, p *recovery.Plan, every bool) {
	fmt.Fprintf(w, "Plan %s: %s %s of %s (%s)\n", recovery.DisplayID(p.ID), p.Kind, model.Counted(len(p.Steps), "machine"), p.App, flyclient.PrintableLine(p.Selection))
	if p.Undoes != "" {
		fmt.Fprintf(w, "  undoes %s\n", recovery.DisplayID(p.Undoes))
	}
	if p.Resumes != "" {
		fmt.Fprintf(w, "  resumes %s\n", recovery.DisplayID(p.Resumes))
	}
	if p.Kind == recovery.KindScale {
		fmt.Fprintf(w, "  group %s%s: %s -> %s\n", p.Args["group"], inRegionText(p.Args["region"]), p.Args["from"], machines(p.Args["count"]))
	}
	if img := p.Args["image"]; img != "" {
		fmt.Fprintf(w, "  image %s, %s=%s\n", img, p.Args["label_env"], p.Args["label"])
	}
	var budgets []string
	for g, b := range p.Limits.GroupBudget {
		budgets = append(budgets, fmt.Sprintf("%s %d", g, b))
	}
	sort.Strings(budgets)
	fmt.Fprintf(w, "  limits: at most %s down per group (%s), %d at once, %d retries, wait %s, health checks %s\n",
		strconv.FormatFloat(p.Limits.MaxUnavailable, 'g', -1, 64), strings.Join(budgets, ", "), p.Limits.Concurrency,
		p.Limits.Retries, p.Limits.WaitTimeout, map[bool]string{true: "skipped", false: "required"}[p.Limits.SkipHealthChecks])
	// Summary by group and change, so 500 machines read in a few lines.
	type key struct{ group, op, from, to string }
	counts := map[key]int{}
	var keys []key
	for _, s := range p.Steps {
		k := key{s.Group, string(s.Op), short(s.FromImage), short(s.ToImage)}
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	for _, k := range keys {
		change := k.to
		if k.from != "" && k.from != k.to {
			change = k.from + " -> " + k.to
		}
		fmt.Fprintf(w, "  %-8s %4d  group %-18s %s\n", k.op, counts[k], k.group, change)
	}
	if len(p.Skipped) > 0 {
		var held, fine []recovery.Step
		for _, s := range p.Skipped {
			if strings.Contains(s.Reason, " is leased by ") {
				held = append(held, s)
			} else {
				fine = append(fine, s)
			}
		}
		if len(fine) > 0 {
			fmt.Fprintf(w, "  %s %s nothing (e.g. %s: %s)\n", model.Counted(len(fine), "machine"), model.Agree(len(fine), "needs", "need"), fine[0].MachineID, flyclient.PrintableLine(fine[0].Reason))
		}
		for _, s := range held {
			fmt.Fprintf(w, "  left out  %s: %s\n", s.MachineID, flyclient.PrintableLine(s.Reason))
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", flyclient.PrintableLine(n))
	}
	if every {
		for _, s := range p.Steps {
			id := s.MachineID
			if id == "" {
				id = "(new)"
			}
			fmt.Fprintf(w, "  %3d %-8s %-15s %-16s %-4s %-9s %s -> %s %s\n", s.Seq, s.Op, id, s.Group, s.Region, s.FromState, short(s.FromImage), short(s.ToImage), s.Reason)
		}
	}
}

// machines is a count the plan keeps as text, with its noun.
func machines(count string) string {
	if n, err := strconv.Atoi(count); err == nil {
		return model.Counted(n, "machine")
	}
	return count + " machines"
}

func inRegionText(r string) string {
	if r == "" {
		return ""
	}
	return " in " + r
}

// short is the tag of an image, which is what tells releases apart.
func short(image string) string {
	if i := strings.LastIndexByte(image, ':'); i >= 0 && !strings.Contains(image[i:], "/") {
		return image[i+1:]
	}
	return image
}

package main

import (
	"encoding/json"
	"io"

	"github.com/flyrescue/flyrescue/recovery"
)

// jsonPlan is what `--dry-run --json` (or a read-only `--json`) prints on
// stdout: the plan a script can check before anyone runs it, with each
// step's flyctl twin. Configs are left out: a step's config is the
// journal's business, not a pipe's.
type jsonPlan struct {
	Type           string            `json:"type"` // "plan"
	ActionID       string            `json:"action_id"`
	DisplayID      string            `json:"display_id"`
	Kind           recovery.Kind     `json:"kind"`
	App            string            `json:"app"`
	Selection      string            `json:"selection"`
	Undoes         string            `json:"undoes,omitempty"`
	Resumes        string            `json:"resumes,omitempty"`
	Steps          []jsonPlanStep    `json:"steps"`
	Skipped        []jsonPlanStep    `json:"skipped,omitempty"`
	HeldByOthers   int               `json:"held_by_others,omitempty"`
	Notes          []string          `json:"notes,omitempty"`
	MaxUnavailable float64           `json:"max_unavailable"`
	GroupBudget    map[string]int    `json:"group_budget,omitempty"`
	Canary         map[string]string `json:"canary,omitempty"`
	Flyctl         []string          `json:"flyctl"`
	Run            bool              `json:"run"` // always false: this plan was only shown
}

type jsonPlanStep struct {
	Seq       int         `json:"seq,omitempty"`
	MachineID string      `json:"machine_id,omitempty"`
	Name      string      `json:"name,omitempty"`
	Op        recovery.Op `json:"op"`
	Group     string      `json:"group,omitempty"`
	Region    string      `json:"region,omitempty"`
	FromImage string      `json:"from_image,omitempty"`
	ToImage   string      `json:"to_image,omitempty"`
	FromState string      `json:"from_state,omitempty"`
	ToState   string      `json:"to_state,omitempty"`
	Reason    string      `json:"reason,omitempty"`
}

func planStepsJSON(steps []recovery.Step) []jsonPlanStep {
	out := make([]jsonPlanStep, 0, len(steps))
	for _, s := range steps {
		out = append(out, jsonPlanStep{Seq: s.Seq, MachineID: s.MachineID, Name: s.Name, Op: s.Op, Group: s.Group, Region: s.Region,
			FromImage: s.FromImage, ToImage: s.ToImage, FromState: s.FromState, ToState: s.ToState, Reason: s.Reason})
	}
	return out
}

// writePlanJSON writes p as one JSON line.
func writePlanJSON(w io.Writer, p *recovery.Plan) error {
	return json.NewEncoder(w).Encode(jsonPlan{
		Type: "plan", ActionID: p.ID, DisplayID: recovery.DisplayID(p.ID), Kind: p.Kind, App: p.App, Selection: p.Selection,
		Undoes: p.Undoes, Resumes: p.Resumes, Steps: planStepsJSON(p.Steps), Skipped: planStepsJSON(p.Skipped),
		HeldByOthers: p.HeldByOthers, Notes: p.Notes, MaxUnavailable: p.Limits.MaxUnavailable,
		GroupBudget: p.Limits.GroupBudget, Canary: p.Limits.Canary, Flyctl: recovery.FlyctlCommands(p),
	})
}

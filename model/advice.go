package model

import "fmt"

// Verb names what an advice asks to do. recovery's verb registry maps each
// to the action that carries it out (recovery.KindForAdvice), so the
// dashboard's "apply advice" and the command line name the same thing.
type Verb string

// Advice verbs.
const (
	ActionRestart  Verb = "restart"
	ActionUpdate   Verb = "update"
	ActionDestroy  Verb = "destroy"
	ActionScale    Verb = "scale"
	ActionRollback Verb = "rollback"
)

// Advice is one step of the runbook applied to this fleet.
type Advice struct {
	Action   Verb     // ActionRestart, ActionUpdate, ActionDestroy, ActionScale, ActionRollback
	Machines []string // sorted IDs the action applies to
	Group    string   // process group, for destroy and scale
	Count    int      // destroy and scale: the group's count before destroying, to scale back to
	Force    bool     // destroy: --force, since stuck machines will not stop cleanly
	// Held are the machines the step would take but someone else holds
	// the lease of: left out, and said so (HeldText).
	Held  []string
	Image string // update, scale and rollback: the image to run
	Label string // update, scale and rollback: the RELEASE_LABEL to set with it
	Why   string
}

// FailedOrStuck is what the runbook calls the machines it destroys: failed
// ones and those stuck in a transitional state. The header counts them
// apart ("failed 10 · stuck 15"), the group bars and the advice together
// ("25 failed/stuck"), always in these words.
const FailedOrStuck = "failed/stuck"

// Title says the step in a few words, the same on every screen. A destroy
// names its group: the runbook destroys group by group, and "14 machines"
// must read as the web group's 14, not as the fleet's.
func (a Advice) Title() string {
	n := len(a.Machines)
	switch a.Action {
	case ActionUpdate:
		return fmt.Sprintf("update %s to %s", Counted(n, "machine"), LabelFromImage(a.Image))
	case ActionRestart:
		return "restart " + Counted(n, a.Group+" machine")
	case ActionDestroy:
		force := ""
		if a.Force {
			force = " with --force"
		}
		what := FailedOrStuck + " machine"
		if a.Group != "" {
			what = FailedOrStuck + " " + a.Group + " machine"
		}
		return "destroy " + Counted(n, what) + force
	case ActionScale:
		return fmt.Sprintf("scale %s back to %d", a.Group, a.Count)
	case ActionRollback:
		return "roll back to " + LabelFromImage(a.Image)
	}
	return string(a.Action)
}

// HeldText says who holds the machines a step leaves out, for a line too
// short for Why: "1 more is leased by deploy-bot", "" when none is.
func (a Advice) HeldText(inc *Incident) string {
	if len(a.Held) == 0 {
		return ""
	}
	return heldByHolder(inc, a.Held, func(n int) string { return fmt.Sprintf("%d more %s", n, Agree(n, "is", "are")) })
}

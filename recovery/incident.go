package recovery

import (
	"strconv"
	"strings"

	"github.com/flyrescue/flyrescue/model"
)

// IncidentFacts extracts what the journal knows about app's incident: the
// baseline (the counts the first action recorded), the rollbacks done
// (undone ones left out) and the machines our actions reached. Operator and
// everything the live fleet says are the caller's to fill in.
func IncidentFacts(hist []*ActionLog, app string) model.IncidentFacts {
	var f model.IncidentFacts
	kinds := map[string]Kind{}
	for _, a := range hist {
		rec := &a.Action
		if rec.App != app {
			continue
		}
		kinds[rec.ID] = rec.Kind
		if f.Baseline == nil && len(rec.GroupCounts) > 0 {
			f.Baseline, f.RegionBaseline, f.BaselineAt = rec.GroupCounts, rec.RegionCounts, a.At
		}
		// A rollback, or an undo/resume of one, states the operator's
		// intent from the moment it is recorded, however it ends.
		isRollback := rec.Kind == KindRollback
		if rec.Resumes != "" && kinds[rec.Resumes] == KindRollback {
			isRollback = true
		}
		if isRollback && a.UndoneBy == "" {
			if v := rollbackVersion(rec.Args); v > 0 {
				f.Rollbacks = append(f.Rollbacks, model.Rollback{
					Version: v, Image: rec.Args["image"], Region: rollbackRegion(rec),
					At: a.At, By: rec.Operator, ActionID: rec.ID,
				})
			}
		}
		for _, m := range a.Machines {
			at := m.IntentAt
			if at.IsZero() {
				at = a.At
			}
			if f.Touched == nil {
				f.Touched = map[string]model.Touch{}
			}
			t := model.Touch{ActionID: rec.ID, Op: string(m.Op), At: at}
			if m.MachineID != "" {
				f.Touched[m.MachineID] = t
			}
			if m.Outcome != nil && m.Outcome.NewMachineID != "" {
				f.Touched[m.Outcome.NewMachineID] = t
			}
		}
	}
	return f
}

// rollbackVersion reads the release a rollback went to: "release" is "v61"
// (what planRollback records), "release_version" the number.
func rollbackVersion(args map[string]string) int {
	if v, err := strconv.Atoi(args["release_version"]); err == nil && v > 0 {
		return v
	}
	v, _ := strconv.Atoi(strings.TrimPrefix(args["release"], "v"))
	return v
}

// rollbackRegion is the region a rollback was limited to, "" for the app.
// Older records have it only in the selection text ("..., region iad").
func rollbackRegion(rec *ActionRecord) string {
	if r := rec.Args["region"]; r != "" {
		return r
	}
	if i := strings.LastIndex(rec.Selection, "region "); i >= 0 {
		return strings.TrimSpace(rec.Selection[i+len("region "):])
	}
	return ""
}

// baselineCount is a group's (or one of its regions') count in the
// incident's baseline.
func baselineCount(f model.IncidentFacts, group, region string) (int, bool) {
	if region != "" {
		n, ok := f.RegionBaseline[group][region]
		return n, ok
	}
	n, ok := f.Baseline[group]
	return n, ok
}

package recovery

import (
	"context"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// attemptLaunch creates a machine from a saved or cloned config. Before a
// retry it looks for a machine an earlier attempt created (tagged with this
// step), so a lost answer never makes two machines.
func (e *Engine) attemptLaunch(ctx, graceCtx context.Context, st *stepState, run *Run) error {
	s := st.step
	tag := launchTag(run.ActionID, s.Seq)
	if st.intent && st.newID == "" {
		if m, err := e.findLaunched(ctx, tag); err != nil {
			return err
		} else if m != nil {
			st.newID, st.last = m.ID, m
		}
	}
	if st.newID != "" {
		m, err := e.waitFor(graceCtx, st.newID, s)
		if m != nil {
			st.last = m
		}
		if err != nil && (m == nil || m.State != model.StateFailed) {
			return err
		}
		return e.finishVerify(graceCtx, st, run, m, "")
	}
	if !st.intent {
		if err := e.writeIntent(run, st, nil, tag); err != nil {
			return err
		}
	}
	cfg, err := flyclient.CloneConfig(s.Config)
	if err != nil {
		return permanent("%v", err)
	}
	if cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	cfg.Metadata[launchTagKey] = tag
	if s.Group != "" {
		cfg.Metadata["fly_process_group"] = s.Group
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.emit(run, st, PhaseActing)
	var m *flyclient.Machine
	// Under the grace context: a create we stopped listening to would leave
	// a machine we do not know about.
	err = e.call(graceCtx, "create", e.opts.App, func(ctx context.Context) error {
		var err error
		m, err = e.api.Launch(ctx, e.opts.App, flyclient.LaunchInput{
			Region: s.Region, Name: s.Name, Config: cfg, LeaseTTL: int(e.opts.LeaseTTL.Seconds()),
		})
		return err
	})
	if err != nil {
		return err
	}
	st.newID, st.last = m.ID, m
	var lease *heldLease
	if m.LeaseNonce != "" {
		lease = e.holdLease(m.ID, m.LeaseNonce)
		defer e.releaseLease(lease)
	}
	e.emit(run, st, PhaseWaiting)
	m, err = e.waitFor(graceCtx, st.newID, s)
	if m != nil {
		st.last = m
	}
	if err != nil && (m == nil || m.State != model.StateFailed) {
		return err
	}
	return e.finishVerify(graceCtx, st, run, m, "")
}

// findLaunched returns the live machine carrying tag, if any.
func (e *Engine) findLaunched(ctx context.Context, tag string) (*flyclient.Machine, error) {
	list, err := e.list(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range list {
		if m != nil && m.Config != nil && m.Config.Metadata[launchTagKey] == tag && m.State != model.StateDestroyed {
			return m, nil
		}
	}
	return nil, nil
}

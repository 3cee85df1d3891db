package ui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// detailPane is the machine pane: what the list cannot show (config,
// events, check output, the lease holder), fetched fresh when opened.
type detailPane struct {
	paneBase
	id       string
	loading  bool
	machine  *flyclient.Machine
	lease    *flyclient.Lease
	err      error
	leaseErr error
	scroll   int
}

// openDetailOrFold opens the detail of the cursor machine, or folds the
// group when the cursor is on a header.
func (m *Model) openDetailOrFold() tea.Cmd {
	if m.snap == nil || m.cursor >= len(m.rows) {
		return nil
	}
	if m.rows[m.cursor].kind != rowMachine {
		m.toggleCollapse()
		return nil
	}
	mc, _ := m.cursorMachine()
	d := newDetailPane(m.shared, mc.ID)
	m.open(d)
	return d.fetch()
}

func newDetailPane(s *shared, id string) *detailPane {
	return &detailPane{paneBase: paneBase{s, "detail", true}, id: id}
}

// fetch reads the machine and its lease in a Cmd with a timeout.
func (d *detailPane) fetch() tea.Cmd {
	d.loading = true
	base, api, app, id := d.baseCtx(), d.opts.API, d.opts.App, d.id
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, detailTimeout)
		defer cancel()
		mach, err := api.Get(ctx, app, id)
		if err != nil {
			return detailMsg{id: id, err: err}
		}
		lease, lerr := api.FindLease(ctx, app, id)
		return detailMsg{id: id, machine: mach, lease: lease, leaseErr: lerr}
	}
}

func (d *detailPane) update(msg tea.Msg, width, height int) (tea.Cmd, bool) {
	k := &d.keys.DetailPane
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case detailMsg:
		if msg.id != d.id {
			return nil, true
		}
		d.loading = false
		d.machine, d.lease, d.err, d.leaseErr = msg.machine, msg.lease, msg.err, msg.leaseErr
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Close.Binding):
			return nil, false
		case key.Matches(msg, k.Down.Binding):
			d.scroll++
		case key.Matches(msg, k.Up.Binding):
			d.scroll--
		case key.Matches(msg, k.Refresh.Binding):
			cmd = d.fetch()
		}
	}
	d.scroll = clampScroll(d.scroll, len(d.lines(width)), height)
	return cmd, true
}

// view renders the pane, scrolled.
func (d *detailPane) view(width, height int) string {
	lines := d.lines(width)
	lines = lines[clampScroll(d.scroll, len(lines), height):]
	k := &d.keys.DetailPane
	lines = append(lines[:min(len(lines), height-1)], d.theme.Muted.Render(fmt.Sprintf(" %s back · %s/%s scroll · %s reload",
		k.Close.Help().Key, k.Down.Help().Key, k.Up.Help().Key, k.Refresh.Help().Key)))
	return strings.Join(lines, "\n")
}

func (d *detailPane) lines(width int) []string {
	t := d.theme
	out := []string{t.Title.Render(" Machine " + d.id)}
	if d.loading && d.machine == nil {
		return append(out, " "+d.spinnerGlyph()+" fetching machine and lease…")
	}
	if d.err != nil {
		return append(out, t.Bad.Render(" could not fetch: "+d.err.Error()))
	}
	mc := d.machine
	kv := func(k, v string) { out = append(out, truncate(" "+t.Muted.Render(fmt.Sprintf("%-14s", k))+v, width)) }
	kv("name", mc.Name)
	kv("state", t.State(mc.State).Render(mc.State)+"   host "+string(mc.HostStatus))
	kv("region", mc.Region)
	kv("instance", mc.InstanceID)
	kv("private ip", mc.PrivateIP)
	kv("created", mc.CreatedAt+"   updated "+mc.UpdatedAt)
	out = append(out, d.exitLine(mc, width))
	switch {
	case d.leaseErr != nil:
		kv("lease", t.Warn.Render("unknown: "+d.leaseErr.Error()))
	case d.lease != nil:
		kv("lease", t.Warn.Render(fmt.Sprintf("held by %s until %s", d.lease.Owner, d.lease.ExpiresAt.UTC().Format(time.RFC3339))))
	default:
		kv("lease", "none")
	}
	if cfg := mc.Config; cfg != nil {
		out = append(out, "", t.Bold.Render(" Config"))
		kv("image", cfg.Image)
		kv(d.opts.LabelEnv, cfg.Env[d.opts.LabelEnv])
		if g := cfg.Guest; g != nil {
			kv("guest", fmt.Sprintf("%s %d cpu · %d MB", g.CPUKind, g.CPUs, g.MemoryMB))
		}
		if r := cfg.Restart; r != nil {
			kv("restart", string(r.Policy))
		}
		kv("services", fmt.Sprintf("%s · %s · %s · auto-destroy %v", model.Counted(len(cfg.Services), "service"), model.Counted(len(cfg.Checks), "check"), model.Counted(len(cfg.Mounts), "mount"), cfg.AutoDestroy))
		out = append(out, "", t.Bold.Render(" Metadata"))
		for _, k := range slices.Sorted(maps.Keys(cfg.Metadata)) {
			out = append(out, truncate(" "+t.Muted.Render(fmt.Sprintf("%-21s", k))+" "+cfg.Metadata[k], width))
		}
	}
	out = append(out, "", t.Bold.Render(" Checks"))
	if len(mc.Checks) == 0 {
		out = append(out, t.Muted.Render(" none"))
	}
	for _, c := range mc.Checks {
		if c == nil {
			continue
		}
		st := string(c.Status)
		out = append(out, truncate(fmt.Sprintf(" %-24s %s %s", c.Name, t.Checks(checkWord(st)).Render(fmt.Sprintf("%-9s", st)), strings.ReplaceAll(c.Output, "\n", " ")), width))
	}
	return append(out, d.eventLines(mc, width)...)
}

// checkWord maps the API's check status onto the model's words.
func checkWord(s string) string {
	switch s {
	case "passing":
		return "passing"
	case "warning":
		return "warning"
	}
	return "critical"
}

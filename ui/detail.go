package ui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/flyclient"
)

// detailState is the machine pane: what the list cannot show (config,
// events, check output, the lease holder), fetched fresh when opened.
type detailState struct {
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
	m.detail = &detailState{id: mc.ID, loading: true}
	m.mode = modeDetail
	return fetchDetail(m.baseCtx(), m.opts.API, m.opts.App, mc.ID)
}

// fetchDetail reads the machine and its lease in a Cmd with a timeout.
func fetchDetail(base context.Context, api FleetAPI, app, id string) tea.Cmd {
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

func (m *Model) receiveDetail(msg detailMsg) {
	if m.detail == nil || m.detail.id != msg.id {
		return
	}
	m.detail.loading = false
	m.detail.machine, m.detail.lease, m.detail.err, m.detail.leaseErr = msg.machine, msg.lease, msg.err, msg.leaseErr
}

func (m *Model) handleDetailKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc", "q", "enter", "left", "h":
		m.mode = modeNormal
		m.detail = nil
	case "down", "j":
		m.detail.scroll++
	case "up", "k":
		m.detail.scroll = max(0, m.detail.scroll-1)
	case "ctrl+r":
		m.detail.loading = true
		return fetchDetail(m.baseCtx(), m.opts.API, m.opts.App, m.detail.id)
	}
	return nil
}

// detailView renders the pane, scrolled.
func (m *Model) detailView(width, height int) string {
	lines := m.detailLines(width)
	d := m.detail
	d.scroll = max(0, min(d.scroll, len(lines)-height+1))
	lines = lines[d.scroll:]
	lines = append(lines[:min(len(lines), height-1)], m.theme.Muted.Render(" esc back · j/k scroll · ctrl+r reload"))
	return strings.Join(lines, "\n")
}

func (m *Model) detailLines(width int) []string {
	t := m.theme
	d := m.detail
	out := []string{t.Title.Render(" Machine " + d.id)}
	if d.loading && d.machine == nil {
		return append(out, " "+m.spinnerGlyph()+" fetching machine and lease…")
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
		kv(m.opts.LabelEnv, cfg.Env[m.opts.LabelEnv])
		if g := cfg.Guest; g != nil {
			kv("guest", fmt.Sprintf("%s %d cpu · %d MB", g.CPUKind, g.CPUs, g.MemoryMB))
		}
		if r := cfg.Restart; r != nil {
			kv("restart", string(r.Policy))
		}
		kv("services", fmt.Sprintf("%d services · %d checks · %d mounts · auto-destroy %v", len(cfg.Services), len(cfg.Checks), len(cfg.Mounts), cfg.AutoDestroy))
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
	out = append(out, "", t.Bold.Render(" Events (newest first)"))
	for i, e := range mc.Events {
		if e == nil || i == 20 {
			break
		}
		out = append(out, truncate(fmt.Sprintf(" %s  %-8s %-10s %s", e.Time().UTC().Format("2006-01-02 15:04:05"), e.Type, t.State(e.Status).Render(fmt.Sprintf("%-10s", e.Status)), t.Muted.Render(e.Source)), width))
	}
	return out
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

package ui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Run shows the dashboard until the operator quits. Bubble Tea restores the
// terminal itself when Update, View or a Cmd panics (it recovers, shuts the
// renderer down and prints the stack), so there is no recover here; what Run
// adds is a clean end for an action still running when the program stops
// for another reason (a signal, the context).
func Run(ctx context.Context, opts Options, progOpts ...tea.ProgramOption) error {
	if opts.Context == nil {
		opts.Context = ctx
	}
	m := New(opts)
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...)
	_, err := p.Run()
	m.Shutdown(10 * time.Second)
	if errors.Is(err, tea.ErrInterrupted) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Shutdown cancels a running action and waits up to timeout for it to
// release its leases and journal its outcomes.
func (m *Model) Shutdown(timeout time.Duration) {
	if m.run == nil || m.run.done || m.run.run == nil {
		return
	}
	m.run.cancel()
	select {
	case <-m.run.run.Done():
	case <-time.After(timeout):
	}
}

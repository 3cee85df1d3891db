package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/flyrescue/flyrescue/model"
)

// The copy key puts machine IDs on the clipboard through the terminal (OSC
// 52), so it works over ssh and in tmux (with set-clipboard on) without a
// clipboard tool on the machine flyrescue runs on. A terminal that does not
// support OSC 52 ignores it; nothing else happens either way.

// copyToClipboard is the command that sets the clipboard to text.
func copyToClipboard(text string) tea.Cmd { return tea.SetClipboard(text) }

// copyTargets copies the IDs the keys act on, one per line: the marked
// machines, else the cursor's (a group header: its group's visible ones).
func (m *Model) copyTargets() tea.Cmd {
	ids, _ := m.targets()
	if len(ids) == 0 {
		m.status = "nothing to copy: move to a machine or mark some with " + m.keys.Mark.Help().Key
		return nil
	}
	m.status = "copied " + model.Counted(len(ids), "machine ID")
	return copyToClipboard(strings.Join(ids, "\n"))
}

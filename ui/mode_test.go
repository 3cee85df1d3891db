package ui

// mode names what has the keys, as the tests written when panes were a
// mode enum ask it.
type mode int

const (
	modeNormal mode = iota
	modeFilter
	modeConfirm
	modeConfirmQuit
	modeForm
	modeHelp
	modeDetail
	modeJournal
)

func (m *Model) mode() mode {
	switch m.focus.(type) {
	case nil:
		if m.typingFilter {
			return modeFilter
		}
		return modeNormal
	case *planPane:
		return modeConfirm
	case *quitPane:
		return modeConfirmQuit
	case *form:
		return modeForm
	case *helpPane:
		return modeHelp
	case *detailPane:
		return modeDetail
	case *journalPane:
		return modeJournal
	}
	panic("unknown pane")
}

// pending is the plan waiting for y, if the plan dialog is open.
func (m *Model) pending() *pendingPlan {
	if p, ok := m.focus.(*planPane); ok {
		return p.pending
	}
	return nil
}

// form is the open form, if any.
func (m *Model) form() *form {
	f, _ := m.focus.(*form)
	return f
}

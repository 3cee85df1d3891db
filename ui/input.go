package ui

import (
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
)

// lineInput is a minimal single-line editor. The Bubbles textinput would do,
// but its blinking virtual cursor makes golden screens and teatest output
// time-dependent; this one renders the same text every frame.
type lineInput struct {
	value string
}

// handle applies an editing key and reports whether the value changed.
func (in *lineInput) handle(msg tea.KeyPressMsg) bool {
	before := in.value
	switch msg.String() {
	case "backspace", "ctrl+h":
		if in.value != "" {
			_, n := utf8.DecodeLastRuneInString(in.value)
			in.value = in.value[:len(in.value)-n]
		}
	case "ctrl+u":
		in.value = ""
	case "ctrl+w", "alt+backspace":
		v := strings.TrimRight(in.value, " ")
		if i := strings.LastIndexByte(v, ' '); i >= 0 {
			in.value = v[:i+1]
		} else {
			in.value = ""
		}
	case "space":
		in.value += " "
	default:
		if msg.Text != "" && msg.Mod&^tea.ModShift == 0 {
			in.value += msg.Text
		}
	}
	return in.value != before
}

// view renders the value with a block cursor at the end.
func (in *lineInput) view(focused bool) string {
	if focused {
		return in.value + "█"
	}
	return in.value
}

package ui

// LogsKeys are the logs pane's keys. Scrolling follows the table's
// movement keys, so an operator who rebinds down to n scrolls the logs
// with n too; search follows the table's filter key.
type LogsKeys struct {
	Close, Up, Down, PageUp, PageDown, Top, Bottom, Search, Pause PaneKey
}

func defaultLogsKeys() LogsKeys {
	return LogsKeys{
		// Close clears a search before it closes: esc backs out one step.
		Close:    paneKey("esc", "back (clears the search first)", "esc").following("quit", "logs"),
		Up:       paneKey("↑", "older line").following("up"),
		Down:     paneKey("↓", "newer line").following("down"),
		PageUp:   paneKey("pgup", "page up").following("page_up"),
		PageDown: paneKey("pgdn", "page down").following("page_down"),
		Top:      paneKey("home", "oldest kept line").following("top"),
		Bottom:   paneKey("end", "newest line, follow").following("bottom"),
		Search:   paneKey("/", "search the lines").following("filter"),
		Pause:    paneKey("p", "pause / follow", "p"),
	}
}

// logsGroup is the logs pane's entry in paneGroups.
func (k *KeyMap) logsGroup(group func(pane, title string, keys ...any) paneGroup) paneGroup {
	l := &k.LogsPane
	return group("logs", "Logs", "close", &l.Close, "up", &l.Up, "down", &l.Down, "page_up", &l.PageUp,
		"page_down", &l.PageDown, "top", &l.Top, "bottom", &l.Bottom, "search", &l.Search, "pause", &l.Pause)
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MinRefresh keeps polling within the Machines API's per-app rate limit for
// listing (1 request a second, bursts of 3).
const MinRefresh = time.Second

// Settings are flyrescue's own defaults; every one is also a flag, and a flag
// given on the command line wins.
type Settings struct {
	Refresh        time.Duration          `yaml:"refresh"`
	ReadOnly       bool                   `yaml:"read_only"`
	LabelEnv       string                 `yaml:"label_env"`
	StuckAfter     time.Duration          `yaml:"stuck_after"`
	MaxUnavailable float64                `yaml:"max_unavailable"`
	Concurrency    int                    `yaml:"concurrency"`
	Theme          string                 `yaml:"theme"` // auto, dark, light
	Keys           map[string]string      `yaml:"keys"`  // action name -> key, e.g. update: u
	Apps           map[string]AppSettings `yaml:"apps"`

	path  string         // the file these came from, for errors
	lines map[string]int // dotted key ("refresh", "keys.update") -> line in the file
}

// AppSettings override Settings for one app.
type AppSettings struct {
	ReadOnly *bool `yaml:"read_only"`
}

// Defaults are the settings without a file.
func Defaults() Settings {
	return Settings{
		Refresh: 2 * time.Second, LabelEnv: "RELEASE_LABEL", StuckAfter: 5 * time.Minute,
		MaxUnavailable: 0.33, Concurrency: 64, Theme: "auto",
	}
}

// ForApp folds the app's overrides in.
func (s Settings) ForApp(app string) Settings {
	if o, ok := s.Apps[app]; ok && o.ReadOnly != nil {
		s.ReadOnly = *o.ReadOnly
	}
	return s
}

// Path is the settings file: $XDG_CONFIG_HOME/flyrescue/config.yaml, else
// ~/.config/flyrescue/config.yaml.
func Path(env Env) string {
	if dir := env("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "flyrescue", "config.yaml")
	}
	if home := env("HOME"); home != "" {
		return filepath.Join(home, ".config", "flyrescue", "config.yaml")
	}
	return ""
}

// Load reads the settings file at path over the defaults. A missing file is
// not an error. Every error names the file and, where it can, the line.
func Load(path string) (Settings, error) {
	s := Defaults()
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key must not be silently ignored
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return s, fmt.Errorf("%s: %s", path, yamlMessage(err))
	}
	s.path = path
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) == nil {
		s.lines = map[string]int{}
		recordLines(&doc, "", s.lines)
	}
	return s, s.validate()
}

// yamlMessage turns yaml.v3's errors into one line that starts with the
// line number and says what to write instead.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msg := te.Errors[0]
	if line, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(line, "line ") {
		switch {
		case strings.HasPrefix(rest, "field ") && strings.Contains(rest, " not found"):
			known := "refresh, read_only, label_env, stuck_after, max_unavailable, concurrency, theme, keys, apps"
			if strings.HasSuffix(rest, "AppSettings") {
				known = "read_only"
			}
			rest = fmt.Sprintf("unknown setting %q (known: %s)", strings.Fields(rest)[1], known)
		case strings.Contains(rest, "into time.Duration"):
			rest = strings.Replace(rest, "into time.Duration", "into a duration: write it like 90s, 5m or 1h", 1)
		}
		msg = line + ": " + rest
	}
	if n := len(te.Errors) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// recordLines notes the line of every mapping key under n, by dotted path.
func recordLines(n *yaml.Node, prefix string, lines map[string]int) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			recordLines(c, prefix, lines)
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := prefix + n.Content[i].Value
		lines[k] = n.Content[i].Line
		recordLines(n.Content[i+1], k+".", lines)
	}
}

// File is the file these settings were read from ("" for the defaults).
func (s Settings) File() string { return s.path }

// Line is the line of a dotted key ("refresh", "apps.shop.read_only") in
// the file, or 0 when the file does not set it.
func (s Settings) Line(key string) int { return s.lines[key] }

// Errorf makes an error about a key of the file, naming the file and the
// key's line, e.g. "config.yaml: line 4: keys.update: ...".
func (s Settings) Errorf(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch line := s.lines[key]; {
	case s.path == "":
		return errors.New(msg)
	case line > 0:
		return fmt.Errorf("%s: line %d: %s", s.path, line, msg)
	default:
		return fmt.Errorf("%s: %s", s.path, msg)
	}
}

func (s Settings) validate() error {
	switch {
	case CheckRefresh(s.Refresh) != nil:
		return s.Errorf("refresh", "%v", CheckRefresh(s.Refresh))
	case s.StuckAfter <= 0:
		return s.Errorf("stuck_after", "stuck_after must be positive, e.g. 5m")
	case CheckMaxUnavailable(s.MaxUnavailable) != nil:
		return s.Errorf("max_unavailable", "max_unavailable %v", CheckMaxUnavailable(s.MaxUnavailable))
	case s.Concurrency < 1:
		return s.Errorf("concurrency", "concurrency must be at least 1")
	case strings.TrimSpace(s.LabelEnv) == "":
		return s.Errorf("label_env", "label_env must name an env var, e.g. RELEASE_LABEL")
	}
	if err := CheckTheme(s.Theme); err != nil {
		return s.Errorf("theme", "%v", err)
	}
	return nil
}

// CheckRefresh refuses a poll interval under MinRefresh. The file and the
// --refresh flag share it.
func CheckRefresh(d time.Duration) error {
	if d < MinRefresh {
		return fmt.Errorf("refresh %s is below the %s floor that keeps polling within Fly's rate limits", d, MinRefresh)
	}
	return nil
}

// CheckTheme refuses a theme other than auto, dark or light.
func CheckTheme(theme string) error {
	switch theme {
	case "auto", "dark", "light":
		return nil
	}
	return fmt.Errorf("theme %q: use auto, dark or light", theme)
}

// ValidateKeys checks the key bindings against the names the dashboard
// knows: an unknown name, an empty key and a key bound twice in the file are
// each reported with the file and line. A key is a duplicate only within
// one scope: the table's names, or one pane's ("journal.undo"), since a
// pane has the keys while it is open.
func (s Settings) ValidateKeys(known []string) error {
	knownSet := make(map[string]bool, len(known))
	for _, k := range known {
		knownSet[k] = true
	}
	names := make([]string, 0, len(s.Keys))
	for name := range s.Keys {
		names = append(names, name)
	}
	// In file order, so a duplicate is reported at its second binding.
	sort.Slice(names, func(i, j int) bool {
		li, lj := s.lines["keys."+names[i]], s.lines["keys."+names[j]]
		return li < lj || li == lj && names[i] < names[j]
	})
	byKey := make(map[string]string)
	for _, name := range names {
		key := strings.TrimSpace(s.Keys[name])
		switch {
		case !knownSet[name]:
			return s.Errorf("keys."+name, "unknown key binding %s (known: %s)", name, strings.Join(known, ", "))
		case key == "":
			return s.Errorf("keys."+name, "keys.%s is empty: give it a key such as \"u\"", name)
		}
		scope, _, _ := strings.Cut(name, ".")
		if !strings.Contains(name, ".") {
			scope = ""
		}
		if other := byKey[scope+"\x00"+key]; other != "" {
			return s.Errorf("keys."+name, "duplicate key binding: %q is bound to %s and %s", key, other, name)
		}
		byKey[scope+"\x00"+key] = name
	}
	return nil
}

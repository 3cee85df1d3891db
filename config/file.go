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
		return s, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := s.validate(); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s Settings) validate() error {
	switch {
	case s.Refresh < MinRefresh:
		return fmt.Errorf("refresh %s is below the %s floor that keeps polling within Fly's rate limits", s.Refresh, MinRefresh)
	case s.StuckAfter <= 0:
		return fmt.Errorf("stuck_after must be positive, e.g. 5m")
	case s.MaxUnavailable <= 0:
		return fmt.Errorf("max_unavailable must be a fraction like 0.33 or a count like 5")
	case s.Concurrency < 1:
		return fmt.Errorf("concurrency must be at least 1")
	case strings.TrimSpace(s.LabelEnv) == "":
		return fmt.Errorf("label_env must name an env var, e.g. RELEASE_LABEL")
	}
	switch s.Theme {
	case "auto", "dark", "light":
	default:
		return fmt.Errorf("theme %q: use auto, dark or light", s.Theme)
	}
	return nil
}

// ValidateKeys checks the key bindings against the actions the dashboard
// knows: unknown action names and keys bound twice are named.
func (s Settings) ValidateKeys(known []string) error {
	knownSet := make(map[string]bool, len(known))
	for _, k := range known {
		knownSet[k] = true
	}
	var unknown []string
	byKey := make(map[string][]string)
	for action, key := range s.Keys {
		if !knownSet[action] {
			unknown = append(unknown, action)
		}
		if strings.TrimSpace(key) == "" {
			return fmt.Errorf("keys.%s is empty: give it a key such as \"u\"", action)
		}
		byKey[key] = append(byKey[key], action)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		sort.Strings(known)
		return fmt.Errorf("unknown key binding action %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	var dups []string
	for key, actions := range byKey {
		if len(actions) > 1 {
			sort.Strings(actions)
			dups = append(dups, fmt.Sprintf("%q is bound to %s", key, strings.Join(actions, " and ")))
		}
	}
	if len(dups) > 0 {
		sort.Strings(dups)
		return fmt.Errorf("duplicate key bindings: %s", strings.Join(dups, "; "))
	}
	return nil
}

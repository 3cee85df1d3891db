package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/flyrescue/flyrescue/config"
	"github.com/flyrescue/flyrescue/ui"
)

// settings is the settings file as one command sees it: the values folded
// into its flags, the key bindings, and where read-only came from.
type settings struct {
	config.Settings
	readOnlyWhy string // empty unless read-only is on
	keys        *ui.KeyMap
}

type settingsKey struct{}

// settingsFlags maps each flag a setting feeds to the setting's value.
func settingsFlags(s config.Settings) map[string]string {
	return map[string]string{
		"refresh":         s.Refresh.String(),
		"read-only":       strconv.FormatBool(s.ReadOnly),
		"label-env":       s.LabelEnv,
		"stuck-after":     s.StuckAfter.String(),
		"max-unavailable": strconv.FormatFloat(s.MaxUnavailable, 'g', -1, 64),
		"concurrency":     strconv.Itoa(s.Concurrency),
		"theme":           s.Theme,
	}
}

// applySettings is the root's PersistentPreRunE: it reads the settings file
// and makes its values the defaults of the flags the command has, so a flag
// on the command line still wins. Commands with none of those flags
// (completion, help, sim, log) do not read the file, so a broken file
// cannot stop them.
func applySettings(cmd *cobra.Command, _ []string) error {
	flags := cmd.Flags()
	uses := flags.Lookup("keys") != nil
	for name := range settingsFlags(config.Defaults()) {
		if flags.Lookup(name) != nil {
			uses = true
		}
	}
	if !uses {
		return nil
	}
	path := config.Path(os.Getenv)
	loaded, keys, err := loadSettings(path)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("%w (fix the settings file, or move it aside to use the defaults)", err)}
	}
	// --keys rebinds on top of the file, for this run only.
	if f := flags.Lookup("keys"); f != nil && f.Changed {
		flagKeys, _ := flags.GetStringToString("keys")
		if err := keys.Rebind(flagKeys); err != nil {
			return &exitError{exitUsage, fmt.Errorf("--keys: %w", err)}
		}
	}
	s := settings{Settings: loaded, keys: &keys}
	// The demo is a sandbox with a throwaway journal: read_only, meant to
	// protect real apps, does not apply to it.
	if cmd.Name() != "demo" {
		app := appForSettings(flags)
		s.Settings = loaded.ForApp(app)
		if o, ok := loaded.Apps[app]; ok && o.ReadOnly != nil && *o.ReadOnly {
			s.readOnlyWhy = fmt.Sprintf("apps.%s.read_only in %s", app, path)
		} else if s.ReadOnly {
			s.readOnlyWhy = "read_only in " + path
		}
	} else {
		s.ReadOnly = false
	}
	for name, value := range settingsFlags(s.Settings) {
		f := flags.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		if err := f.Value.Set(value); err != nil {
			return &exitError{exitUsage, fmt.Errorf("%s: %s %q: %w", path, name, value, err)}
		}
	}
	if flags.Changed("read-only") {
		s.readOnlyWhy = "--read-only"
	}
	cmd.SetContext(context.WithValue(cmd.Context(), settingsKey{}, &s))
	return nil
}

// loadSettings reads the settings file at path and checks it, key bindings
// included; every error names the file and line.
func loadSettings(path string) (config.Settings, ui.KeyMap, error) {
	keys := ui.DefaultKeyMap()
	s, err := config.Load(path)
	if err != nil {
		return s, keys, err
	}
	if err := s.ValidateKeys(ui.BindingNames()); err != nil {
		return s, keys, err
	}
	var be *ui.BindingError
	if err := keys.Rebind(s.Keys); errors.As(err, &be) {
		return s, keys, s.Errorf("keys."+be.Binding, "%v", be)
	} else if err != nil {
		return s, keys, err
	}
	return s, keys, nil
}

// appForSettings names the app the per-app settings are looked up by, the
// way connect will resolve it; no app yet means no per-app settings.
func appForSettings(flags *pflag.FlagSet) string {
	get := func(name string) string {
		if f := flags.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	app, err := config.App(get("app"), get("config"), os.Getenv)
	if err != nil {
		return ""
	}
	return app
}

// settingsFrom returns what applySettings stored, or the defaults when it
// did not run (a command built without the root, as some tests do).
func settingsFrom(ctx context.Context) *settings {
	if ctx != nil {
		if s, ok := ctx.Value(settingsKey{}).(*settings); ok {
			return s
		}
	}
	keys := ui.DefaultKeyMap()
	return &settings{Settings: config.Defaults(), keys: &keys}
}

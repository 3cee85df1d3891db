package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/config"
	"github.com/flyrescue/flyrescue/ui"
)

func init() { subcommands = append(subcommands, newConfigCmd) }

// exampleSettings is what `config --example` prints: every setting at its
// default, with what it does.
const exampleSettings = `# flyrescue settings: ~/.config/flyrescue/config.yaml (or $XDG_CONFIG_HOME/flyrescue/config.yaml).
# Every setting is also a flag; a flag on the command line wins.

refresh: 2s              # dashboard poll interval (--refresh); at least 1s
read_only: false         # plan but never act (--read-only)
label_env: RELEASE_LABEL # env var carrying the release label (--label-env)
stuck_after: 5m          # transitional this long = stuck (--stuck-after)
max_unavailable: 0.33    # per process group: a fraction (<1) or a count (--max-unavailable)
concurrency: 64          # machines worked on at once (--concurrency)
theme: auto              # auto, dark or light (--theme)

# Dashboard keys (--keys): name -> one key. Actions that change machines
# cannot use ctrl+ keys or y.
keys:
  update: u
  destroy: D

# Per-app overrides.
apps:
  my-prod-app:
    read_only: true
`

func newConfigCmd() *cobra.Command {
	var conn connection
	var example bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the settings in force and where each comes from",
		Long: `Reads the settings file (~/.config/flyrescue/config.yaml, or $XDG_CONFIG_HOME/flyrescue/config.yaml)
and prints every setting with its value and source: the file and line, a per-app override, or
the default. With -a it folds in that app's overrides. A bad file is reported with its line, as
every other command would. --example prints a commented file to start from.`,
		Example: `  flyrescue config
  flyrescue config -a my-prod-app
  flyrescue config --example > ~/.config/flyrescue/config.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if example {
				_, err := io.WriteString(cmd.OutOrStdout(), exampleSettings+bindingNamesComment())
				return err
			}
			path := config.Path(os.Getenv)
			s, _, err := loadSettings(path)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			app, _ := config.App(conn.app, conn.configPath, os.Getenv)
			printSettings(cmd.OutOrStdout(), path, app, s)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&conn.app, "app", "a", "", "Fold in this app's overrides (default: FLY_APP, then app in fly.toml)")
	f.StringVarP(&conn.configPath, "config", "c", "", "Path to the app's fly.toml (for its app name)")
	f.BoolVar(&example, "example", false, "Print a commented settings file to start from")
	return cmd
}

func printSettings(w io.Writer, path, app string, s config.Settings) {
	switch {
	case path == "":
		fmt.Fprintln(w, "Settings file: none (no HOME or XDG_CONFIG_HOME); defaults in force")
	case s.File() == "":
		fmt.Fprintf(w, "Settings file: %s (not found; defaults in force; `flyrescue config --example` starts one)\n", path)
	default:
		fmt.Fprintf(w, "Settings file: %s\n", path)
	}
	source := func(key string) string {
		if n := s.Line(key); n > 0 {
			return fmt.Sprintf("line %d", n)
		}
		return "default"
	}
	eff := s.ForApp(app)
	readOnlySrc := source("read_only")
	if app != "" && s.Line("apps."+app+".read_only") > 0 {
		readOnlySrc = fmt.Sprintf("apps.%s, line %d", app, s.Line("apps."+app+".read_only"))
	}
	rows := [][3]string{
		{"refresh", eff.Refresh.String(), source("refresh")},
		{"read_only", fmt.Sprint(eff.ReadOnly), readOnlySrc},
		{"label_env", eff.LabelEnv, source("label_env")},
		{"stuck_after", eff.StuckAfter.String(), source("stuck_after")},
		{"max_unavailable", fmt.Sprint(eff.MaxUnavailable), source("max_unavailable")},
		{"concurrency", fmt.Sprint(eff.Concurrency), source("concurrency")},
		{"theme", eff.Theme, source("theme")},
	}
	var names []string
	for name := range s.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rows = append(rows, [3]string{"keys." + name, s.Keys[name], source("keys." + name)})
	}
	if app != "" {
		fmt.Fprintf(w, "App: %s\n", app)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "  %-20s %-16s %s\n", r[0], r[1], r[2])
	}
	if len(s.Apps) > 0 {
		var apps []string
		for a := range s.Apps {
			apps = append(apps, a)
		}
		sort.Strings(apps)
		fmt.Fprintf(w, "\nPer-app overrides for: %s\n", strings.Join(apps, ", "))
	}
}

// bindingNamesComment lists every key binding name the settings file takes,
// from the dashboard's own key map, as comment lines.
func bindingNamesComment() string {
	var b strings.Builder
	b.WriteString("\n# Every key binding name (see the README's keys table for what each does):\n#")
	width := 1
	for _, n := range ui.BindingNames() {
		if width+1+len(n) > 96 {
			b.WriteString("\n#")
			width = 1
		}
		b.WriteString(" " + n)
		width += 1 + len(n)
	}
	b.WriteString("\n")
	return b.String()
}

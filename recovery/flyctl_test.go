package recovery

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
	"github.com/flyrescue/flyrescue/model"
)

// flyctlFlags are the flags of the flyctl subcommands the flyctl forms use,
// transcribed from flyctl's internal/command/machine/*.go (superfly/flyctl
// ad0172f) and `fly machine SUB --help` of a build from source: true takes
// a value. maxArgs bounds the positional arguments.
var flyctlFlags = map[string]struct {
	flags   map[string]bool
	maxArgs int
}{
	"update": {map[string]bool{"image": true, "env": true, "metadata": true, "machine-config": true, "skip-start": false,
		"skip-health-checks": false, "yes": false, "app": true}, 1},
	"restart":      {map[string]bool{"skip-health-checks": false, "force": false, "app": true}, 99},
	"start":        {map[string]bool{"app": true}, 99},
	"stop":         {map[string]bool{"app": true}, 99},
	"suspend":      {map[string]bool{"app": true}, 99},
	"cordon":       {map[string]bool{"app": true}, 99},
	"uncordon":     {map[string]bool{"app": true}, 99},
	"destroy":      {map[string]bool{"force": false, "app": true}, 99},
	"leases clear": {map[string]bool{"app": true}, 1},
	"run":          {map[string]bool{"machine-config": true, "region": true, "name": true, "metadata": true, "env": true, "app": true}, 2},
}

// shellWords splits a command as a POSIX shell would, for the quoting
// ShellQuote does (bare words, single quotes, \').
func shellWords(t *testing.T, cmd string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted, escaped := false, false, false
	for _, r := range cmd {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case !quoted && r == '\\':
			escaped, inWord = true, true
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune("\"\\$`;&|<>()*?[]#~!{}", r):
			t.Fatalf("%q: unquoted shell character %q", cmd, r)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted || escaped {
		t.Fatalf("%q: unterminated quote", cmd)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// parseFlyctl checks cmd against flyctlFlags as flyctl's flag parser would
// and returns its subcommand, flag values and positional arguments.
func parseFlyctl(t *testing.T, cmd string) (sub string, flags map[string][]string, args []string) {
	t.Helper()
	w := shellWords(t, cmd)
	if len(w) < 3 || w[0] != "fly" || w[1] != "machine" {
		t.Fatalf("%q is not a fly machine command", cmd)
	}
	sub, rest := w[2], w[3:]
	if sub == "leases" && len(rest) > 0 && rest[0] == "clear" {
		sub, rest = "leases clear", rest[1:]
	}
	spec, ok := flyctlFlags[sub]
	if !ok {
		t.Fatalf("%q: flyctl has no fly machine %s", cmd, sub)
	}
	flags = map[string][]string{}
	for i := 0; i < len(rest); i++ {
		name, isFlag := strings.CutPrefix(rest[i], "--")
		if !isFlag {
			name, isFlag = strings.CutPrefix(rest[i], "-")
			name = map[string]string{"a": "app"}[name]
		}
		if !isFlag {
			args = append(args, rest[i])
			continue
		}
		takes, known := spec.flags[name]
		switch {
		case !known:
			t.Errorf("%q: fly machine %s has no flag --%s", cmd, sub, name)
		case takes && i+1 == len(rest):
			t.Errorf("%q: --%s needs a value", cmd, name)
		case takes:
			i++
			flags[name] = append(flags[name], rest[i])
		default:
			flags[name] = append(flags[name], "")
		}
	}
	if len(args) > spec.maxArgs {
		t.Errorf("%q: %d arguments, fly machine %s takes at most %d", cmd, len(args), sub, spec.maxArgs)
	}
	return sub, flags, args
}

// An update planned over flysim hands on one `fly machine update` per step,
// with the image, the label and every metadata key the engine's call sets,
// and flags flyctl's parser accepts.
func TestFlyctlCommandsUpdate(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "minority", Machines: 20, NoRateLimit: true})
	e := r.engine(Options{Operator: "alice@laptop"})
	p, err := e.PlanUpdate(context.Background(), UpdateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cmds := FlyctlCommands(p)
	if len(cmds) != len(p.Steps) || len(cmds) == 0 {
		t.Fatalf("%d commands for %d steps", len(cmds), len(p.Steps))
	}
	target := r.sim.TargetImage()
	for i, s := range p.Steps {
		want := fmt.Sprintf("fly machine update %s --image %s --env RELEASE_LABEL=%s ", s.MachineID, target, model.LabelFromImage(target))
		if !strings.HasPrefix(cmds[i], want) || !strings.HasSuffix(cmds[i], " --yes -a "+r.sim.App()) {
			t.Errorf("step %d: %q, want it to start %q and end with --yes -a %s", i, cmds[i], want, r.sim.App())
		}
		sub, flags, args := parseFlyctl(t, cmds[i])
		if sub != "update" || !slices.Equal(args, []string{s.MachineID}) {
			t.Errorf("%q: fly machine %s %v", cmds[i], sub, args)
		}
		var meta []string
		for k, v := range s.Metadata {
			meta = append(meta, k+"="+v)
		}
		slices.Sort(meta)
		if !slices.Equal(flags["metadata"], meta) || !slices.Contains(meta, "flyrescue_by=alice@laptop") {
			t.Errorf("%q: metadata %v, want the step's %v", cmds[i], flags["metadata"], meta)
		}
		if _, skip := flags["skip-start"]; skip != (s.ToState == model.StateStopped) {
			t.Errorf("%q: --skip-start %v for a step to %s", cmds[i], skip, s.ToState)
		}
	}
}

// Every op's flyctl form, on steps as each planner makes them.
func TestFlyctlForms(t *testing.T) {
	cfg := &flyclient.MachineConfig{Image: "registry.fly.io/app:v1", Env: map[string]string{"RELEASE_LABEL": "v1", "GREETING": "it's <fine> & $HOME"},
		Metadata: map[string]string{"fly_process_group": "worker"}}
	const id = "3d8d9e1f2b7689"
	for _, c := range []struct {
		name string
		s    Step
		args map[string]string
		want string
	}{
		{"restart", Step{Op: OpRestart, MachineID: id}, nil, "fly machine restart " + id + " -a my-app"},
		{"restart without checks", Step{Op: OpRestart, MachineID: id}, map[string]string{flyctlSkipChecks: "true"},
			"fly machine restart " + id + " --skip-health-checks -a my-app"},
		{"start", Step{Op: OpStart, MachineID: id}, nil, "fly machine start " + id + " -a my-app"},
		{"stop", Step{Op: OpStop, MachineID: id}, nil, "fly machine stop " + id + " -a my-app"},
		{"suspend", Step{Op: OpSuspend, MachineID: id}, nil, "fly machine suspend " + id + " -a my-app"},
		{"cordon", Step{Op: OpCordon, MachineID: id}, nil, "fly machine cordon " + id + " -a my-app"},
		{"uncordon", Step{Op: OpUncordon, MachineID: id}, nil, "fly machine uncordon " + id + " -a my-app"},
		{"destroy", Step{Op: OpDestroy, MachineID: id}, nil, "fly machine destroy " + id + " -a my-app"},
		{"force destroy", Step{Op: OpDestroy, MachineID: id, Force: true}, nil, "fly machine destroy " + id + " --force -a my-app"},
		{"clear lease", Step{Op: OpClearLease, MachineID: id}, nil, "fly machine leases clear " + id + " -a my-app"},
		{"update kept stopped", Step{Op: OpUpdate, MachineID: id, ToImage: "registry.fly.io/app:v2", Label: "v2", ToState: model.StateStopped},
			map[string]string{"label_env": "APP_RELEASE"},
			"fly machine update " + id + " --image registry.fly.io/app:v2 --env APP_RELEASE=v2 --skip-start --yes -a my-app"},
	} {
		got := opOf(c.s.Op).Flyctl("my-app", c.s, c.args)
		if got != c.want {
			t.Errorf("%s: %q\n want %q", c.name, got, c.want)
		}
		parseFlyctl(t, got)
	}

	// A saved config goes back whole, quoted so the shell leaves it alone.
	undo := opOf(OpUpdate).Flyctl("my-app", Step{Op: OpUpdate, MachineID: id, Config: cfg, ToState: model.StateStarted}, nil)
	if _, flags, _ := parseFlyctl(t, undo); len(flags["machine-config"]) != 1 || !sameConfig(t, flags["machine-config"][0], cfg, nil) {
		t.Errorf("undo of an update: %q does not put the saved config back", undo)
	}
	// A launch runs the config in its region and group.
	launch := opOf(OpLaunch).Flyctl("my-app", Step{Op: OpLaunch, Region: "ams", Group: "web", ToImage: cfg.Image, Config: cfg}, nil)
	sub, flags, args := parseFlyctl(t, launch)
	if sub != "run" || !slices.Equal(args, []string{cfg.Image}) || !slices.Equal(flags["region"], []string{"ams"}) ||
		!sameConfig(t, flags["machine-config"][0], cfg, map[string]string{"fly_process_group": "web"}) {
		t.Errorf("launch: %q", launch)
	}
}

// sameConfig: the JSON decodes to want, with meta over its metadata.
func sameConfig(t *testing.T, raw string, want *flyclient.MachineConfig, meta map[string]string) bool {
	t.Helper()
	var got flyclient.MachineConfig
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Errorf("%q: %v", raw, err)
		return false
	}
	w, _ := flyclient.CloneConfig(want)
	for k, v := range meta {
		w.Metadata[k] = v
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(w)
	return string(a) == string(b)
}

// A token in a config never reaches a flyctl command; an op flyctl has no
// command for says so as a comment, not a command.
func TestFlyctlCommandsRedactAndUnknown(t *testing.T) {
	cfg := &flyclient.MachineConfig{Image: "registry.fly.io/app:v1", Env: map[string]string{"FLY_API_TOKEN": "fo1_abcdefghijklmnopqrstuvwxyz0123456789"}}
	p := &Plan{App: "my-app", Steps: []Step{
		{Op: OpLaunch, Region: "iad", Config: cfg},
		{Op: "teleport", MachineID: "3d8d9e1f2b7689"},
	}}
	cmds := FlyctlCommands(p)
	if strings.Contains(cmds[0], "fo1_") || !strings.Contains(cmds[0], "[REDACTED]") {
		t.Errorf("token not redacted: %q", cmds[0])
	}
	if !strings.HasPrefix(cmds[1], "# teleport 3d8d9e1f2b7689:") {
		t.Errorf("unknown op: %q", cmds[1])
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "''",
		"registry.fly.io/a:b": "registry.fly.io/a:b",
		"flyrescue_by=a@b":    "flyrescue_by=a@b",
		"RELEASE_LABEL=v 2":   "'RELEASE_LABEL=v 2'",
		"it's":                `'it'\''s'`,
		"$HOME;rm -rf /":      `'$HOME;rm -rf /'`,
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
		if in != "" {
			if w := shellWords(t, "x "+ShellQuote(in)); len(w) != 2 || w[1] != in {
				t.Errorf("%q does not come back from the shell as it was: %q", in, w)
			}
		}
	}
}

func TestDashboardURL(t *testing.T) {
	if got := DashboardURL("my-app", "3d8d9e1f2b7689"); got != "https://fly.io/apps/my-app/machines/3d8d9e1f2b7689" {
		t.Error(got)
	}
}

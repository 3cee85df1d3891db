package recovery

import (
	"maps"
	"slices"
	"strings"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/model"
)

// An operator often hands one step of a plan to a colleague, a runbook or a
// script. The flyctl form of a step is the `fly machine` command that does
// what the step does, flags checked against flyctl's own
// (internal/command/machine/*.go). It does only the call: flyctl takes its
// own lease, but there is no budget, no canary, no verification and no
// journal, so the commands run one at a time, in plan order.

// Plan arguments the flyctl forms read besides the plan's own.
const (
	// flyctlSkipChecks: the plan runs without waiting for health checks.
	flyctlSkipChecks = "flyctl_skip_health_checks"
)

// FlyctlCommands is the flyctl command for each step of p, in plan order.
// They are redacted like any other output: a token in a machine's config
// never reaches the clipboard.
func FlyctlCommands(p *Plan) []string {
	args := maps.Clone(p.Args)
	if args == nil {
		args = map[string]string{}
	}
	if p.Limits.SkipHealthChecks {
		args[flyctlSkipChecks] = "true"
	}
	out := make([]string, 0, len(p.Steps))
	for _, s := range p.Steps {
		o := opOf(s.Op)
		if o.Flyctl == nil {
			out = append(out, "# "+string(s.Op)+" "+s.MachineID+": flyctl has no command for this step")
			continue
		}
		out = append(out, flyclient.Redact(o.Flyctl(p.App, s, args)))
	}
	return out
}

// DashboardURL is the machine's page in the Fly dashboard.
func DashboardURL(app, machineID string) string {
	return "https://fly.io/apps/" + app + "/machines/" + machineID
}

// flyctlVerb is the flyctl form of an op that takes only the machine:
// fly machine VERB ID -a APP ("leases clear" is two words), with the flags
// that apply to the step.
func flyctlVerb(verb string, flags func(s Step, args map[string]string) []string) func(string, Step, map[string]string) string {
	return func(app string, s Step, args map[string]string) string {
		words := append(strings.Fields(verb), s.MachineID)
		if flags != nil {
			words = append(words, flags(s, args)...)
		}
		return flyMachine(app, words...)
	}
}

// destroyFlags: a forced destroy kills a machine that is running or will
// not stop, which flyctl's destroy does with --force too.
func destroyFlags(s Step, _ map[string]string) []string {
	if s.Force {
		return []string{"--force"}
	}
	return nil
}

// flyMachine is `fly machine WORDS… -a APP`, each word shell-quoted.
func flyMachine(app string, words ...string) string {
	parts := []string{"fly", "machine"}
	for _, w := range append(words, "-a", app) {
		parts = append(parts, ShellQuote(w))
	}
	return strings.Join(parts, " ")
}

// skipChecksFlag: the plan skips health checks, so flyctl should not wait
// for them either (update and restart have the flag).
func skipChecksFlag(_ Step, args map[string]string) []string {
	if args[flyctlSkipChecks] == "true" {
		return []string{"--skip-health-checks"}
	}
	return nil
}

// flyctlUpdate: an image update sets the image, the release label and the
// metadata (fly_release_* and flyrescue's marks, sorted), as the engine's
// call does; an undo puts back a saved config with --machine-config, which
// flyctl lays over the live config. A machine the step keeps stopped is
// updated with --skip-start, as the engine does. --yes: flyctl would
// otherwise ask to confirm the diff.
func flyctlUpdate(app string, s Step, args map[string]string) string {
	words := []string{"update", s.MachineID}
	if s.Config != nil {
		cfg := flyctlConfig(s.Config, nil)
		if cfg == "" {
			return noConfig(s)
		}
		words = append(words, "--machine-config", cfg)
	} else {
		words = append(words, "--image", s.ToImage)
		if s.Label != "" {
			env := args["label_env"]
			if env == "" {
				env = DefaultLabelEnv
			}
			words = append(words, "--env", env+"="+s.Label)
		}
		for _, k := range slices.Sorted(maps.Keys(s.Metadata)) {
			words = append(words, "--metadata", k+"="+s.Metadata[k])
		}
	}
	if s.ToState == model.StateStopped {
		words = append(words, "--skip-start")
	}
	words = append(words, skipChecksFlag(s, args)...)
	return flyMachine(app, append(words, "--yes")...)
}

// flyctlLaunch: a new machine from the step's config, in its region, in
// its process group, as the engine's create call makes it (less the tag
// that lets a retry find it).
func flyctlLaunch(app string, s Step, _ map[string]string) string {
	image := s.ToImage
	words := []string{"run", image}
	if s.Config != nil {
		if image == "" {
			words[1] = s.Config.Image
		}
		var meta map[string]string
		if s.Group != "" {
			meta = map[string]string{"fly_process_group": s.Group}
		}
		cfg := flyctlConfig(s.Config, meta)
		if cfg == "" {
			return noConfig(s)
		}
		words = append(words, "--machine-config", cfg)
	}
	if s.Region != "" {
		words = append(words, "--region", s.Region)
	}
	if s.Name != "" {
		words = append(words, "--name", s.Name)
	}
	return flyMachine(app, words...)
}

// noConfig stands for the command of a step whose config does not encode.
func noConfig(s Step) string {
	return "# " + string(s.Op) + " " + s.MachineID + ": its config does not encode as JSON; do this step by hand"
}

// flyctlConfig is c as flyctl's --machine-config reads it, with meta laid
// over its metadata; "" if it does not encode (the caller says so rather
// than hand on a command that would launch something else).
func flyctlConfig(c *flyclient.MachineConfig, meta map[string]string) string {
	cfg, err := flyclient.CloneConfig(c)
	if err != nil || cfg == nil {
		return ""
	}
	if len(meta) > 0 {
		if cfg.Metadata == nil {
			cfg.Metadata = map[string]string{}
		}
		maps.Copy(cfg.Metadata, meta)
	}
	b, err := marshalUnescaped(cfg)
	if err != nil {
		return ""
	}
	return string(b)
}

// ShellQuote quotes s for a POSIX shell: as it is when it holds only
// characters no shell treats specially, else in single quotes.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,/:=@%+", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadMissingFileGivesDefaults(t *testing.T) {
	s, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err != nil || s.Refresh != 2*time.Second || s.MaxUnavailable != 0.33 || s.LabelEnv != "RELEASE_LABEL" {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestLoadFileAndAppOverride(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, p, "refresh: 5s\nlabel_env: DEPLOY_LABEL\nstuck_after: 10m\nmax_unavailable: 4\nconcurrency: 8\ntheme: light\nkeys:\n  update: U\napps:\n  prod-app:\n    read_only: true\n")
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Refresh != 5*time.Second || s.LabelEnv != "DEPLOY_LABEL" || s.StuckAfter != 10*time.Minute || s.MaxUnavailable != 4 || s.Concurrency != 8 || s.Theme != "light" || s.Keys["update"] != "U" {
		t.Fatalf("%+v", s)
	}
	if s.ReadOnly || !s.ForApp("prod-app").ReadOnly || s.ForApp("other").ReadOnly {
		t.Fatal("per-app read_only not applied")
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"unknown key":   {"refresh: 2s\nrefersh: 3s\n", "line 2"},
		"bad duration":  {"refresh: soon\n", "line 1"},
		"below floor":   {"refresh: 100ms\n", "floor"},
		"bad theme":     {"theme: purple\n", "auto, dark or light"},
		"bad structure": {"keys: [u, r]\n", "line 1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			writeFile(t, p, c.body)
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want the path and %q", err, c.want)
			}
		})
	}
}

func TestValidateKeys(t *testing.T) {
	known := []string{"update", "restart", "destroy"}
	if err := (Settings{Keys: map[string]string{"update": "U", "restart": "R"}}).ValidateKeys(known); err != nil {
		t.Fatal(err)
	}
	err := (Settings{Keys: map[string]string{"updte": "U"}}).ValidateKeys(known)
	if err == nil || !strings.Contains(err.Error(), "updte") || !strings.Contains(err.Error(), "known:") {
		t.Fatalf("unknown action: %v", err)
	}
	err = (Settings{Keys: map[string]string{"update": "x", "destroy": "x"}}).ValidateKeys(known)
	if err == nil || !strings.Contains(err.Error(), `"x" is bound to destroy and update`) {
		t.Fatalf("duplicate: %v", err)
	}
}

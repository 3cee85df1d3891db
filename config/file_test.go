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
		"unknown key":    {"refresh: 2s\nrefersh: 3s\n", "line 2"},
		"bad duration":   {"refresh: soon\n", "line 1"},
		"below floor":    {"label_env: X\nrefresh: 100ms\n", "line 2: refresh 100ms is below the 1s floor"},
		"bad theme":      {"refresh: 2s\n\ntheme: purple\n", "line 3: theme \"purple\": use auto, dark or light"},
		"no concurrency": {"concurrency: 0\n", "line 1: concurrency must be at least 1"},
		"bad structure":  {"keys: [u, r]\n", "line 1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			writeFile(t, p, c.body)
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want the path and %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("not one line: %q", err)
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
	// A pane's keys are its own scope: the journal's undo may share the
	// table's update key, two of the journal's may not.
	paneKnown := append(known, "journal.undo", "journal.resume")
	if err := (Settings{Keys: map[string]string{"update": "x", "journal.undo": "x"}}).ValidateKeys(paneKnown); err != nil {
		t.Fatalf("a pane key beside a table key: %v", err)
	}
	err = (Settings{Keys: map[string]string{"journal.undo": "x", "journal.resume": "x"}}).ValidateKeys(paneKnown)
	if err == nil || !strings.Contains(err.Error(), `"x" is bound to journal.resume and journal.undo`) {
		t.Fatalf("duplicate in one pane: %v", err)
	}
	// From a file, each names the file and the binding's line.
	p := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, p, "refresh: 2s\nkeys:\n  update: x\n  destroy: x\n")
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	err = s.ValidateKeys(known)
	if err == nil || !strings.Contains(err.Error(), p+`: line 4: duplicate key binding: "x" is bound to update and destroy`) {
		t.Fatalf("duplicate from a file: %v", err)
	}
	if err := s.Errorf("keys.update", "boom"); err.Error() != p+": line 3: boom" {
		t.Fatalf("Errorf: %v", err)
	}
}

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTokenPrecedence(t *testing.T) {
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".fly", "config.yml"), "access_token: FlyV1 fm2_fromfile\n")
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "config.yml"), "access_token: fo1_fromdir\n")
	full := map[string]string{"HOME": home, "FLY_ACCESS_TOKEN": "access", "FLY_API_TOKEN": "api"}
	cases := []struct {
		name, flag string
		env        map[string]string
		want       string
		source     TokenSource
	}{
		{"flag wins", "flagtok", full, "flagtok", "--access-token"},
		{"FLY_ACCESS_TOKEN before FLY_API_TOKEN", "", full, "access", "FLY_ACCESS_TOKEN"},
		{"FLY_API_TOKEN", "", map[string]string{"HOME": home, "FLY_API_TOKEN": "api"}, "api", "FLY_API_TOKEN"},
		{"config.yml in home", "", map[string]string{"HOME": home}, "FlyV1 fm2_fromfile", TokenSource(filepath.Join(home, ".fly", "config.yml"))},
		{"FLY_CONFIG_DIR", "", map[string]string{"HOME": home, "FLY_CONFIG_DIR": other}, "fo1_fromdir", TokenSource(filepath.Join(other, "config.yml"))},
		{"blank env ignored", "", map[string]string{"HOME": home, "FLY_ACCESS_TOKEN": "  "}, "FlyV1 fm2_fromfile", TokenSource(filepath.Join(home, ".fly", "config.yml"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, src, err := Token(c.flag, envOf(c.env))
			if err != nil || got != c.want || src != c.source {
				t.Fatalf("got %q from %q (%v), want %q from %q", got, src, err, c.want, c.source)
			}
		})
	}
}

func TestTokenMissingSaysWhatToDo(t *testing.T) {
	_, _, err := Token("", envOf(map[string]string{"HOME": t.TempDir()}))
	if !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), "fly auth login") || !strings.Contains(err.Error(), "flyrescue demo") {
		t.Fatalf("got %v", err)
	}
}

func TestTokenBadConfigNamesFileAndLine(t *testing.T) {
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".fly", "config.yml"), "access_token: ok\n  bad: [\n")
	_, _, err := Token("", envOf(map[string]string{"HOME": home}))
	if err == nil || !strings.Contains(err.Error(), "config.yml") || !strings.Contains(err.Error(), "line") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "ok") && strings.Contains(err.Error(), "access_token: ok") {
		t.Fatalf("error leaks the token: %v", err)
	}
}

func TestAppPrecedence(t *testing.T) {
	dir := t.TempDir()
	toml := filepath.Join(dir, "fly.toml")
	writeFile(t, toml, "app = \"from-toml\"\nprimary_region = \"iad\"\n\n[env]\n  X = \"1\"\n")
	if a, err := App("flag-app", toml, envOf(map[string]string{"FLY_APP": "env-app"})); err != nil || a != "flag-app" {
		t.Fatalf("flag: %q %v", a, err)
	}
	if a, err := App("", toml, envOf(map[string]string{"FLY_APP": "env-app"})); err != nil || a != "env-app" {
		t.Fatalf("env: %q %v", a, err)
	}
	if a, err := App("", toml, envOf(nil)); err != nil || a != "from-toml" {
		t.Fatalf("toml: %q %v", a, err)
	}
	t.Chdir(dir)
	if a, err := App("", "", envOf(nil)); err != nil || a != "from-toml" {
		t.Fatalf("./fly.toml: %q %v", a, err)
	}
}

func TestAppErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := App("", "", envOf(nil)); !errors.Is(err, ErrNoApp) || !strings.Contains(err.Error(), "-a/--app") {
		t.Fatalf("no app: %v", err)
	}
	if _, err := App("", "missing.toml", envOf(nil)); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Fatalf("missing explicit config: %v", err)
	}
	writeFile(t, "bad.toml", "app = \"x\"\nthis is not toml\n")
	if _, err := App("", "bad.toml", envOf(nil)); err == nil || !strings.Contains(err.Error(), "bad.toml:2") {
		t.Fatalf("bad toml: %v", err)
	}
	writeFile(t, "noapp.toml", "primary_region = \"iad\"\n")
	if _, err := App("", "noapp.toml", envOf(nil)); err == nil || !strings.Contains(err.Error(), "app =") {
		t.Fatalf("toml without app: %v", err)
	}
}

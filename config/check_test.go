package config

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckMaxUnavailable(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -1} {
		if err := CheckMaxUnavailable(v); err == nil || !strings.Contains(err.Error(), "a fraction like 0.33 or a count like 5") {
			t.Errorf("%v: %v", v, err)
		}
	}
	for _, v := range []float64{0.33, 1, 5, 1e6} {
		if err := CheckMaxUnavailable(v); err != nil {
			t.Errorf("%v refused: %v", v, err)
		}
	}
}

// YAML spells NaN and infinity .nan and .inf; the file refuses them with
// its name and line.
func TestSettingsFileRefusesNaNAndInf(t *testing.T) {
	for _, v := range []string{".nan", ".inf", "-.inf", ".NaN"} {
		p := filepath.Join(t.TempDir(), "config.yaml")
		writeFile(t, p, "refresh: 2s\nmax_unavailable: "+v+"\n")
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p+": line 2: max_unavailable") || !strings.Contains(err.Error(), "a fraction like 0.33") {
			t.Errorf("%s: %v", v, err)
		}
	}
}

func TestAppNamesAreChecked(t *testing.T) {
	good := []string{"shop", "my-app-2", "9lives", strings.Repeat("a", 63)}
	for _, a := range good {
		if got, err := App(a, "", envOf(nil)); err != nil || got != a {
			t.Errorf("%q refused: %v", a, err)
		}
	}
	bad := map[string]string{
		"../../../tmp/x":        "lowercase letters, digits and dashes",
		"-a":                    "starting with a letter or digit",
		"My-App":                `lowercase: "my-app"`,
		"app/x":                 "lowercase letters",
		"a\x1b[2J":              "lowercase letters",
		"app_name":              "lowercase letters",
		"app.name":              "lowercase letters",
		strings.Repeat("a", 64): "at most 63",
	}
	for a, want := range bad {
		got, err := App(a, "", envOf(nil))
		if err == nil || got != "" || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "-a/--app") {
			t.Errorf("-a %q: %q, %v", a, got, err)
		}
	}
	if _, err := App("", "", envOf(map[string]string{"FLY_APP": "../x"})); err == nil || !strings.Contains(err.Error(), "check FLY_APP") {
		t.Errorf("FLY_APP: %v", err)
	}
	dir := t.TempDir()
	toml := filepath.Join(dir, "fly.toml")
	writeFile(t, toml, "app = \"../../etc\"\n")
	if _, err := App("", toml, envOf(nil)); err == nil || !strings.Contains(err.Error(), "check "+toml) {
		t.Errorf("fly.toml: %v", err)
	}
}

func TestTokenWithAControlCharacter(t *testing.T) {
	home := t.TempDir()
	cases := []struct {
		flag string
		env  map[string]string
		want string
	}{
		{"", map[string]string{"HOME": home, "FLY_API_TOKEN": "fm2_abc\nfm2_def"}, "the token has a newline in it: check FLY_API_TOKEN"},
		{"", map[string]string{"HOME": home, "FLY_ACCESS_TOKEN": "abc\rdef"}, "a newline in it: check FLY_ACCESS_TOKEN"},
		{"abc\x1bdef", map[string]string{"HOME": home}, "a control character (U+001B) in it: check --access-token"},
	}
	for _, c := range cases {
		_, _, err := Token(c.flag, envOf(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "abc") {
			t.Errorf("%q %v: %v", c.flag, c.env, err)
		}
	}
	// A trailing newline, as `echo` leaves, is trimmed, not refused.
	if tok, _, err := Token("", envOf(map[string]string{"HOME": home, "FLY_API_TOKEN": "fm2_abc\n"})); err != nil || tok != "fm2_abc" {
		t.Errorf("trailing newline: %q %v", tok, err)
	}
	cfg := filepath.Join(home, ".fly", "config.yml")
	writeFile(t, cfg, "access_token: \"fm2_a\\nfm2_b\"\n")
	if _, _, err := Token("", envOf(map[string]string{"HOME": home})); err == nil || !strings.Contains(err.Error(), "check "+cfg) {
		t.Errorf("config.yml: %v", err)
	}
	_ = os.Remove(cfg)
}

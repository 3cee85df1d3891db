// Package config finds what flyrescue needs to reach an app, the way flyctl
// does (token, app name, API endpoints), and reads flyrescue's own settings
// file. It never prints a token.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"
)

// ErrNoToken and ErrNoApp say what is missing; their messages say what to do.
var (
	ErrNoToken = errors.New("no Fly API token: run `fly auth login`, or set FLY_API_TOKEN (e.g. `export FLY_API_TOKEN=$(fly tokens deploy)`); `flyrescue demo` needs no token")
	ErrNoApp   = errors.New("no app named: pass -a/--app, set FLY_APP, or run from a directory with a fly.toml; `flyrescue demo` needs no app")
)

// Env is the process environment, injectable for tests.
type Env func(string) string

// TokenSource says where a token was found, for messages that must not show
// the token itself.
type TokenSource string

// Token finds the API token in flyctl's order: the flag, FLY_ACCESS_TOKEN,
// FLY_API_TOKEN, then access_token in $FLY_CONFIG_DIR/config.yml or
// ~/.fly/config.yml.
func Token(flag string, env Env) (string, TokenSource, error) {
	tok, src, err := findToken(flag, env)
	if err == nil {
		err = checkToken(tok, src)
	}
	if err != nil {
		return "", "", err
	}
	return tok, src, nil
}

func findToken(flag string, env Env) (string, TokenSource, error) {
	if t := strings.TrimSpace(flag); t != "" {
		return t, "--access-token", nil
	}
	for _, k := range []string{"FLY_ACCESS_TOKEN", "FLY_API_TOKEN"} {
		if t := strings.TrimSpace(env(k)); t != "" {
			return t, TokenSource(k), nil
		}
	}
	path := flyConfigPath(env)
	if path == "" {
		return "", "", ErrNoToken
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", ErrNoToken
	}
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", path, err)
	}
	var fc struct {
		AccessToken string `yaml:"access_token"`
	}
	if err := yaml.Unmarshal(b, &fc); err != nil {
		return "", "", fmt.Errorf("%s is not valid YAML (%v); fix it or set FLY_API_TOKEN", path, yamlLine(err))
	}
	if t := strings.TrimSpace(fc.AccessToken); t != "" {
		return t, TokenSource(path), nil
	}
	return "", "", ErrNoToken
}

func flyConfigPath(env Env) string {
	if dir := env("FLY_CONFIG_DIR"); dir != "" {
		return filepath.Join(dir, "config.yml")
	}
	home := env("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".fly", "config.yml")
}

// App finds the app name in flyctl's order: the flag, FLY_APP, then the app
// key of fly.toml (configPath, or ./fly.toml).
// The name is checked (CheckAppName) wherever it came from.
func App(flag, configPath string, env Env) (string, error) {
	if a := strings.TrimSpace(flag); a != "" {
		return checkedApp(a, "-a/--app")
	}
	if a := strings.TrimSpace(env("FLY_APP")); a != "" {
		return checkedApp(a, "FLY_APP")
	}
	explicit := configPath != ""
	if !explicit {
		configPath = "fly.toml"
	}
	b, err := os.ReadFile(configPath)
	if errors.Is(err, os.ErrNotExist) {
		if explicit {
			return "", fmt.Errorf("config file %s does not exist (check -c/--config)", configPath)
		}
		return "", ErrNoApp
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", configPath, err)
	}
	var ft struct {
		App string `toml:"app"`
	}
	if err := toml.Unmarshal(b, &ft); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return "", fmt.Errorf("%s:%d: %s (fix the file or pass -a/--app)", configPath, row, de.Error())
		}
		return "", fmt.Errorf("%s: %v (fix the file or pass -a/--app)", configPath, err)
	}
	if a := strings.TrimSpace(ft.App); a != "" {
		return checkedApp(a, configPath)
	}
	return "", fmt.Errorf("%s has no app = \"...\" line: pass -a/--app or set FLY_APP", configPath)
}

func checkedApp(name, source string) (string, error) {
	if err := CheckAppName(name, source); err != nil {
		return "", err
	}
	return name, nil
}

// yamlLine keeps yaml's "line N: ..." wording, which already names the line.
func yamlLine(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

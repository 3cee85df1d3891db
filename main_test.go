package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// cliResult is what one in-process run of the command line produced.
type cliResult struct {
	stdout, stderr string
	code           int
	err            error
}

// runCLI runs flyrescue with args in this process, as main does (the
// "Error:" line included, in stderr), with no terminal on stdin.
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return cliResult{stdout: out.String(), stderr: errOut.String(), err: err, code: code}
}

// isolate gives the test a clean environment: no real token, config or
// journal of the developer's leaks in, and nothing leaks out.
func isolate(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home + "/.config", "XDG_STATE_HOME": home + "/.state",
		"FLY_API_TOKEN": "", "FLY_ACCESS_TOKEN": "", "FLY_APP": "", "FLY_CONFIG_DIR": "",
		"FLY_FLAPS_BASE_URL": "http://127.0.0.1:1", "FLY_API_BASE_URL": "http://127.0.0.1:1",
		"FLYRESCUE_STATE_DIR": home + "/journal",
	} {
		t.Setenv(k, v)
	}
	t.Chdir(home)
}

// simEnv starts a simulator and points the environment at it, as the output
// of `flyrescue sim` would.
func simEnv(t *testing.T, opts flysim.Options) *flysim.Server {
	t.Helper()
	isolate(t)
	if opts.Speed == 0 {
		opts.Speed = 500
	}
	srv, err := flysim.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv("FLY_FLAPS_BASE_URL", srv.URL)
	t.Setenv("FLY_API_BASE_URL", srv.URL)
	t.Setenv("FLY_API_TOKEN", "sim-token")
	return srv
}

func writeTestFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

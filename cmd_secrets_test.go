package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/flyrescue/flyrescue/recovery"
)

const echoedToken = "s3cr3t-t0ken-value-42"

// echoingAPI is a Machines API behind a gateway that echoes the request's
// Authorization header (and an escape sequence) in every error body. It
// lists two started machines of app shop; everything else fails with
// status, the echo in its text.
func echoingAPI(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		bare := auth[strings.IndexByte(auth, ' ')+1:]
		echo := "gateway rejected Authorization: " + auth + " (token " + bare + ") \x1b[2J\x1b]0;pwned\x07"
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/apps/shop/machines":
			var ms []map[string]any
			for _, id := range []string{"148e21a6b4e089", "3d8d9e1f2b7689"} {
				ms = append(ms, map[string]any{
					"id": id, "name": "m-" + id, "state": "started", "region": "iad", "instance_id": "01HX" + id,
					"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
					"config": map[string]any{"image": "registry.fly.io/shop:v1", "metadata": map[string]string{"fly_process_group": "web"}},
				})
			}
			_ = json.NewEncoder(w).Encode(ms)
		case r.URL.Path == "/graphql":
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": echo}}})
		default:
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": echo})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func echoEnv(t *testing.T, status int) {
	t.Helper()
	isolate(t)
	url := echoingAPI(t, status)
	t.Setenv("FLY_FLAPS_BASE_URL", url)
	t.Setenv("FLY_API_BASE_URL", url)
	t.Setenv("FLY_API_TOKEN", echoedToken)
}

// noSecretNoEscape fails when the token or a raw escape character reached
// what the operator sees.
func noSecretNoEscape(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, echoedToken) {
		t.Errorf("%s shows the token:\n%s", what, s)
	}
	if strings.ContainsAny(s, "\x1b\x07") {
		t.Errorf("%s passes a raw escape sequence to the terminal: %q", what, s)
	}
}

// A gateway echoing the Authorization header cannot get the token printed,
// in stdout, stderr or the journal, by status or by an action.
func TestEchoedTokenReachesNoOutput(t *testing.T) {
	t.Run("status", func(t *testing.T) {
		echoEnv(t, http.StatusInternalServerError)
		r := runCLI(t, "status", "-a", "shop")
		if r.err != nil || !strings.Contains(r.stdout, "Warning: releases unavailable") || !strings.Contains(r.stdout, "[REDACTED]") {
			t.Fatalf("code %d: %v\n%s", r.code, r.err, r.stdout)
		}
		noSecretNoEscape(t, "status stdout", r.stdout)
		noSecretNoEscape(t, "status stderr", r.stderr)
	})
	t.Run("status of an app whose listing fails", func(t *testing.T) {
		echoEnv(t, http.StatusInternalServerError)
		r := runCLI(t, "status", "-a", "other")
		if r.code != exitUnreachable || !strings.Contains(r.stderr, "Error: ") || !strings.Contains(r.stderr, "[REDACTED]") {
			t.Fatalf("code %d: %v\nstderr: %s", r.code, r.err, r.stderr)
		}
		noSecretNoEscape(t, "status stderr", r.stderr)
	})
	t.Run("restart, then log in every format", func(t *testing.T) {
		echoEnv(t, http.StatusInternalServerError)
		r := runCLI(t, "restart", "-a", "shop", "--all", "--yes", "--retries", "0")
		if r.code != exitActionFailed {
			t.Fatalf("code %d: %v\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
		}
		noSecretNoEscape(t, "restart stdout", r.stdout)
		noSecretNoEscape(t, "restart stderr", r.stderr)
		journal, _ := recovery.JournalPath("", "shop")
		b, err := os.ReadFile(journal)
		if err != nil || !strings.Contains(string(b), "[REDACTED]") {
			t.Fatalf("journal %s (%v) holds no redacted failure:\n%s", journal, err, b)
		}
		if strings.Contains(string(b), echoedToken) {
			t.Fatalf("the journal holds the token:\n%s", b)
		}
		// An older version journaled the echo as it came: log still shows
		// neither the token nor the escapes.
		old := strings.Replace(string(b), "[REDACTED]", echoedToken+` \u001b[2J`, 1)
		writeTestFile(t, journal, old)
		for _, format := range [][]string{nil, {"--json"}, {"--markdown"}} {
			r := runCLI(t, append([]string{"log", "-a", "shop"}, format...)...)
			if r.err != nil || !strings.Contains(r.stdout, "[REDACTED]") {
				t.Fatalf("log %v: %v\n%s", format, r.err, r.stdout)
			}
			noSecretNoEscape(t, "log stdout "+strings.Join(format, ""), r.stdout)
		}
	})
}

// The final error line is one line of printable text: an escape sequence
// typed into --select is shown escaped, never obeyed.
func TestEscapeSequencesInArgumentsAreShownEscaped(t *testing.T) {
	echoEnv(t, http.StatusInternalServerError)
	sel := "\x1b[31mweb\x1b]0;owned\x07\u009b2J"
	r := runCLI(t, "restart", "-a", "shop", "--select", sel, "--dry-run", "--retries", "0")
	out := r.stdout + r.stderr
	if r.code != exitNothingToDo || !strings.Contains(out, `\x1b[31mweb`) || !strings.Contains(out, `\u009b2J`) {
		t.Fatalf("code %d: %v\n%q", r.code, r.err, out)
	}
	noSecretNoEscape(t, "restart --select", out)
	if strings.Contains(out, "\u009b") {
		t.Fatalf("a C1 CSI reached the output: %q", out)
	}
	if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines != 0 {
		t.Fatalf("the error is not one line: %q", r.stderr)
	}
}

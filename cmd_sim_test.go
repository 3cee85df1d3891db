package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/ui"
)

// Bad fault flags are usage errors that say what to give, for sim and demo.
func TestSimFaultFlagsRejected(t *testing.T) {
	isolate(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--target", "broken"}, "--target"},
		{[]string{"sim", "--lost-answers", "1.5"}, "--lost-answers"},
		{[]string{"sim", "--applied-errors", "-0.1"}, "--applied-errors"},
		{[]string{"sim", "--outage", "down"}, "--outage"},
		{[]string{"sim", "--outage", "hang:soon"}, "--outage"},
		{[]string{"sim", "--lease", "alice@example.com"}, "ID=OWNER"},
		{[]string{"sim", "--lease", "0123=alice@example.com:forever"}, "TTL"},
		{[]string{"sim", "--lease", "0123=alice@example.com", "--addr", "127.0.0.1:0"}, "machine 0123 not found"},
		{[]string{"sim", "--lease-any", "0=alice@example.com"}, "positive count"},
		{[]string{"sim", "--lease-any", "9999=alice@example.com", "--machines", "10", "--addr", "127.0.0.1:0"}, "no started, unleased machine"},
		{[]string{"sim", "--autoscaler", "--autoscaler-every", "0s"}, "--autoscaler-every"},
		{[]string{"sim", "--teammate", "-1s"}, "--teammate"},
		{[]string{"demo", "--autoscaler-every", "-5s"}, "--autoscaler-every"},
		{[]string{"demo", "--target", "broken"}, "--target"},
		{[]string{"demo", "--outage", "reset:0s"}, "--outage"},
	} {
		r := runCLI(t, c.args...)
		if r.code != exitUsage || r.err == nil || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%v: exit %d, %v (want %q)", c.args, r.code, r.err, c.want)
		}
	}
}

func TestParseLeaseFlag(t *testing.T) {
	key, owner, ttl, err := parseLeaseFlag("3=alice@example.com:10m")
	if err != nil || key != "3" || owner != "alice@example.com" || ttl != 10*time.Minute {
		t.Fatalf("%q %q %v %v", key, owner, ttl, err)
	}
	if _, _, ttl, err := parseLeaseFlag("148e=bob"); err != nil || ttl != 0 {
		t.Fatalf("no TTL: %v %v", ttl, err)
	}
	for _, bad := range []string{"", "=bob", "3=", "3=:1m", "3=bob:-1s"} {
		if _, _, _, err := parseLeaseFlag(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// `flyrescue sim` with fault flags serves them: the leases it prints are
// held, the target fails its checks, errors quote the token and a lost
// answer closes the connection.
func TestSimServesFaults(t *testing.T) {
	isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := newRootCmd()
	root.SetOut(pw)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"sim", "--addr", "127.0.0.1:0", "--machines", "40", "--speed", "100", "--no-rate-limit",
		"--target", "fails-checks", "--lost-answers", "1", "--echo-auth", "--lease-any", "2=alice@example.com:10m"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()

	var base string
	var leased []string
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := lines.Text()
		if u, ok := strings.CutPrefix(line, "export FLY_FLAPS_BASE_URL="); ok {
			base = u
		}
		if rest, ok := strings.CutPrefix(line, "# lease: "); ok {
			id, owner, _ := strings.Cut(rest, " held by ")
			if owner != "alice@example.com" {
				t.Fatalf("lease line %q", line)
			}
			leased = append(leased, id)
		}
		if strings.HasPrefix(line, "# faults: ") && !strings.Contains(line, "target fails-checks") {
			t.Fatalf("faults line %q", line)
		}
		if len(leased) == 2 {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" || len(leased) != 2 {
		t.Fatalf("sim printed base %q, leases %v", base, leased)
	}
	get := func(path, token string) (int, map[string]any, []map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var obj map[string]any
		var list []map[string]any
		if json.Unmarshal(b, &obj) != nil {
			_ = json.Unmarshal(b, &list)
		}
		return resp.StatusCode, obj, list
	}
	for _, id := range leased {
		code, body, _ := get("/v1/apps/demo-app/machines/"+id+"/lease", "sim-token")
		data, _ := body["data"].(map[string]any)
		if code != 200 || data["owner"] != "alice@example.com" || !strings.Contains(data["description"].(string), "--lease-any") {
			t.Fatalf("lease on %s: %d %v", id, code, body)
		}
	}
	_, _, machines := get("/v1/apps/demo-app/machines", "sim-token")
	critical := 0
	for _, m := range machines {
		if m["state"] == "started" {
			if checks, _ := m["checks"].([]any); len(checks) > 0 && checks[0].(map[string]any)["status"] == "critical" {
				critical++
			}
		}
	}
	if critical == 0 {
		t.Fatal("--target fails-checks: no started machine with critical checks")
	}
	if code, body, _ := get("/v1/apps/demo-app/machines/nope", "my-secret"); code != 404 ||
		!strings.Contains(body["error"].(string), "Authorization: Bearer my-secret") {
		t.Fatalf("--echo-auth: %d %v", code, body)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/apps/demo-app/machines/"+leased[0]+"/cordon", nil)
	req.Header.Set("Authorization", "Bearer sim-token")
	// The leased machine refuses (409, answered); lost answers need an applied change.
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 409 {
		t.Fatalf("cordon of a leased machine: %v", err)
	} else {
		resp.Body.Close()
	}
	free := ""
	for _, m := range machines {
		if id := m["id"].(string); id != leased[0] && id != leased[1] && m["state"] == "started" {
			if code, _, _ := get("/v1/apps/demo-app/machines/"+id+"/lease", "sim-token"); code == 404 {
				free = id
				break
			}
		}
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/apps/demo-app/machines/"+free+"/cordon", nil)
	req.Header.Set("Authorization", "Bearer sim-token")
	if resp, err := http.DefaultClient.Do(req); !errors.Is(err, io.EOF) {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("--lost-answers 1: cordon answered: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("sim: %v", err)
	}
}

// The demo's fault flags reach its simulator.
func TestDemoFaultFlags(t *testing.T) {
	isolate(t)
	critical := func(args ...string) (n int, alice int) {
		t.Helper()
		prev := runUI
		t.Cleanup(func() { runUI = prev })
		runUI = func(ctx context.Context, o ui.Options) error {
			ms, err := o.API.List(ctx, o.App, flyclient.ListOptions{})
			if err != nil {
				return err
			}
			for _, m := range ms {
				if m.State == "started" && !m.AllHealthChecks().AllPassing() {
					n++
				}
				if l, err := o.API.FindLease(ctx, o.App, m.ID); err == nil && l != nil && l.Owner == "alice@example.com" {
					alice++
				}
			}
			return nil
		}
		if r := runCLI(t, append([]string{"demo", "--machines", "20", "--speed", "0.01"}, args...)...); r.err != nil {
			t.Fatalf("demo %v: %v", args, r.err)
		}
		return n, alice
	}
	if n, alice := critical(); n != 0 || alice != 0 {
		t.Fatalf("plain demo: %d critical, %d alice leases", n, alice)
	}
	if n, alice := critical("--target", "fails-checks", "--lease-any", "3=alice@example.com"); n == 0 || alice != 3 {
		t.Fatalf("demo --target fails-checks --lease-any 3=alice: %d critical, %d alice leases", n, alice)
	}
}

// `flyrescue sim --autoscaler --teammate` says which actors run and they
// act: the autoscaler clones and the teammate updates machines, none of it
// counted as a client's mutation; with --deploying the release runs until
// the deploy is done (the flysim tests follow it to the end).
func TestSimActors(t *testing.T) {
	isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := newRootCmd()
	root.SetOut(pw)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"sim", "--addr", "127.0.0.1:0", "--machines", "40", "--speed", "200", "--no-rate-limit",
		"--scenario", "minority", "--autoscaler", "--autoscaler-every", "2s", "--teammate", "1m"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	var base, actors string
	lines := bufio.NewScanner(pr)
	for actors == "" && lines.Scan() {
		line := lines.Text()
		if u, ok := strings.CutPrefix(line, "export FLY_FLAPS_BASE_URL="); ok {
			base = u
		}
		if a, ok := strings.CutPrefix(line, "# actors: "); ok {
			actors = a
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" || !strings.Contains(actors, "autoscaler on worker_autoscale every 2s") || !strings.Contains(actors, "teammate updating one old-image machine every 1m0s") {
		t.Fatalf("sim printed base %q, actors %q", base, actors)
	}
	var stats struct {
		Mutations map[string]int `json:"mutations_per_machine"`
		Actors    map[string]int `json:"actor_changes"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for stats.Actors["autoscaler_created"] == 0 || stats.Actors["teammate_updated"] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("actors did not act in 10 s: %v", stats.Actors)
		}
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Get(base + "/_sim/stats")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&stats)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(stats.Mutations) != 0 {
		t.Fatalf("actor changes %v counted as mutations %v", stats.Actors, stats.Mutations)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("sim: %v", err)
	}
}

// The demo's actor flags reach its simulator: with --autoscaler the fleet
// grows once the demo's running deploy is done.
func TestDemoActorFlags(t *testing.T) {
	isolate(t)
	prev := runUI
	t.Cleanup(func() { runUI = prev })
	grew := false
	runUI = func(ctx context.Context, o ui.Options) error {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			ms, err := o.API.List(ctx, o.App, flyclient.ListOptions{})
			if err != nil {
				return err
			}
			if len(ms) > 20 {
				grew = true
				return nil
			}
			time.Sleep(1100 * time.Millisecond) // the demo keeps the API's 1 list/s
		}
		return nil
	}
	if r := runCLI(t, "demo", "--machines", "20", "--speed", "100", "--autoscaler", "--autoscaler-every", "1s"); r.err != nil {
		t.Fatalf("demo: %v", r.err)
	}
	if !grew {
		t.Fatal("demo --autoscaler: the fleet never grew")
	}
}

// `flyrescue sim` prints every line flyctl needs (FLY_UIEX_BASE_URL among
// them) and the releases to deploy. With only those values, a deploy made
// the way flyctl makes it (CreateRelease on the uiex API, then running)
// becomes the target `flyrescue status` reads, and its status follows
// what the deploy reports.
func TestSimExportsServeAFlyctlDeploy(t *testing.T) {
	isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := newRootCmd()
	root.SetOut(pw)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"sim", "--addr", "127.0.0.1:0", "--machines", "20", "--speed", "100", "--no-rate-limit", "--scenario", "minority"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	exports := map[string]string{}
	var target, previous string
	lines := bufio.NewScanner(pr)
	for previous == "" && lines.Scan() {
		line := lines.Text()
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			exports[k] = v
		}
		if rest, ok := strings.CutPrefix(line, "# target "); ok {
			target = rest
		}
		if rest, ok := strings.CutPrefix(line, "# previous "); ok {
			previous = rest
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := exports["FLY_FLAPS_BASE_URL"]
	if base == "" || exports["FLY_API_BASE_URL"] != base || exports["FLY_UIEX_BASE_URL"] != base ||
		exports["FLY_API_TOKEN"] != "sim-token" || exports["FLY_APP"] != "demo-app" ||
		exports["FLY_NO_UPDATE_CHECK"] != "1" || exports["FLY_SEND_METRICS"] != "0" || len(exports) != 7 {
		t.Fatalf("exports %v", exports)
	}
	if !strings.HasPrefix(target, "v62 (failed, ok): registry.fly.io/demo-app:") || !strings.HasPrefix(previous, "v61 (complete): registry.fly.io/demo-app:") {
		t.Fatalf("release lines %q, %q", target, previous)
	}
	uiex := func(method, path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, exports["FLY_UIEX_BASE_URL"]+path, strings.NewReader(string(b)))
		req.Header.Add("Authorization", "Bearer "+exports["FLY_API_TOKEN"])
		req.Header.Add("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v %v", method, path, resp.StatusCode, out, err)
		}
		return out
	}
	const image = "registry.fly.io/demo-app:demo-app.v63-1-gfeedbeef"
	created := uiex("POST", "/api/v1/releases", map[string]any{"app_name": exports["FLY_APP"], "build_id": 0,
		"definition": map[string]any{"app": "demo-app"}, "image": image, "strategy": "IMMEDIATE"})
	rel, _ := created["release"].(map[string]any)
	id, _ := rel["id"].(string)
	uiex("PATCH", "/api/v1/releases/"+id, map[string]any{"status": "running", "metadata": nil})
	for k, v := range exports {
		t.Setenv(k, v)
	}
	status := func() statusReport {
		t.Helper()
		r := runCLI(t, "status", "--json")
		var rep statusReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("status: %v %v %s", r.err, err, r.stdout)
		}
		return rep
	}
	if rep := status(); rep.TargetImage != image || rep.Incident.Target.Release != "v63" {
		t.Fatalf("target after the deploy's release: %s (%+v)", rep.TargetImage, rep.Incident.Target)
	}
	got := uiex("PATCH", "/api/v1/releases/"+id, map[string]any{"status": "failed",
		"metadata": map[string]any{"post_deployment_info": map[string]any{"error": "timeout reached waiting for health checks"}}})
	if got["status"] != "failed" || got["version"] != float64(63) {
		t.Fatalf("release after failing: %v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("sim: %v", err)
	}
}

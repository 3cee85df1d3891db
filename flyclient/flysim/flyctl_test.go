package flysim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests send what flyctl (ad0172f) sends where fly-go has no call for
// it: its uiex client's REST requests to FLY_UIEX_BASE_URL and its own
// GraphQL queries, with the bodies and headers it writes, and decode the
// answers into the shapes it decodes.

// uiexCall is one request as flyctl's uiex client makes it: a JSON body,
// "Authorization: Bearer <token>", "Content-Type: application/json".
func uiexCall(t *testing.T, e *env, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			t.Fatal(err)
		}
		rd = &buf
	}
	req, _ := http.NewRequestWithContext(ctx(t), method, e.srv.URL+path, rd)
	req.Header.Add("Authorization", "Bearer t")
	req.Header.Add("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// The shapes of flyctl's internal/uiex.
type (
	uiexOrganization struct {
		ID                string `json:"id"`
		InternalNumericID uint64 `json:"internal_numeric_id"`
		Slug              string `json:"slug"`
		PaidPlan          bool   `json:"paid_plan"`
		BillingStatus     string `json:"billing_status"`
		Name              string `json:"name"`
	}
	uiexReleaseWire struct {
		ID         string    `json:"id"`
		Version    int       `json:"version"`
		Stable     bool      `json:"stable"`
		InProgress bool      `json:"in_progress"`
		Status     string    `json:"status"`
		Strategy   string    `json:"strategy"`
		User       string    `json:"user"`
		CreatedAt  time.Time `json:"created_at"`
		ImageRef   string    `json:"image_ref"`
	}
	uiexCreateRelease struct {
		AppName    string `json:"app_name"`
		BuildID    int64  `json:"build_id"`
		Definition any    `json:"definition"`
		Image      string `json:"image"`
		Strategy   string `json:"strategy"`
	}
	uiexBuild struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
)

// `fly m update --image` and `fly deploy` look up the organization, then
// record a build; the build records are what make flyctl's image
// resolution quiet.
func TestUiexOrganizationAndBuilds(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 3, NoRateLimit: true, Token: "t"})
	var org struct {
		Organization uiexOrganization `json:"organization"`
	}
	if code := uiexCall(t, e, "GET", "/api/v1/organizations/demo-org", nil, &org); code != 200 ||
		org.Organization.Slug != "demo-org" || org.Organization.InternalNumericID == 0 || org.Organization.BillingStatus != "CURRENT" {
		t.Fatalf("organization: %d %+v", code, org)
	}
	if code := uiexCall(t, e, "GET", "/api/v1/organizations/someone-else", nil, nil); code != 404 {
		t.Fatalf("unknown organization: %d", code)
	}
	app, err := e.flaps.GetApp(ctx(t), e.app) // where flyctl reads the slug from
	if err != nil || app.Organization.Slug != "demo-org" {
		t.Fatalf("app: %+v %v", app, err)
	}
	var build uiexBuild
	create := map[string]any{"app_name": e.app, "builder_type": "remote",
		"strategies_available": []string{"Local Image Reference", "Remote Image Reference"}}
	if code := uiexCall(t, e, "POST", "/api/v1/builds", create, &build); code != 200 || build.ID == 0 {
		t.Fatalf("create build: %d %+v", code, build)
	}
	var done uiexBuild
	finish := map[string]any{"build_id": build.ID, "app_name": e.app, "machine_id": "", "status": "completed",
		"final_image": map[string]any{"id": "img_x", "tag": "registry.fly.io/demo-app:v63", "size_bytes": 1}}
	if code := uiexCall(t, e, "POST", "/api/v1/builds/finish", finish, &done); code != 200 || done.ID != build.ID || done.Status != "completed" {
		t.Fatalf("finish build: %d %+v", code, done)
	}
	req, _ := http.NewRequestWithContext(ctx(t), "GET", e.srv.URL+"/api/v1/organizations/demo-org", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("wrong token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// A deploy as flyctl runs it: CreateRelease before any machine is touched,
// then running, then complete or failed. The release is real at once: on
// top of the GraphQL history (fly releases), the current release (the
// config flyctl reads back), the sim's target.
func TestDeployReleaseLifecycle(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 10, NoRateLimit: true})
	const image = "registry.fly.io/demo-app:demo-app.v63-1-g0123abcd"
	definition := map[string]any{
		"app": e.app, "primary_region": "iad",
		"processes": map[string]any{"web": "bin/rails server", "worker": "bundle exec sidekiq", "extra": "bin/extra"},
		"deploy":    map[string]any{"release_command": "bin/rake sidekiq:quiet", "strategy": "immediate"},
		"env":       map[string]any{"RELEASE_LABEL": "v63-1-g0123abcd"},
	}
	var created struct {
		Release uiexReleaseWire `json:"release"`
	}
	in := uiexCreateRelease{AppName: e.app, BuildID: 7, Definition: definition, Image: image, Strategy: "IMMEDIATE"}
	if code := uiexCall(t, e, "POST", "/api/v1/releases", in, &created); code != 201 {
		t.Fatalf("create release: %d", code)
	}
	r := created.Release
	if r.ID == "" || r.Version != 63 || r.Status != ReleasePending || r.ImageRef != image || r.Strategy != "IMMEDIATE" || r.CreatedAt.IsZero() {
		t.Fatalf("created %+v", r)
	}
	if e.sim.TargetImage() != image {
		t.Fatalf("target %s after the deploy's release", e.sim.TargetImage())
	}
	status := func(want string, stable, inProgress bool) {
		t.Helper()
		var got uiexReleaseWire
		body := map[string]any{"status": want, "metadata": map[string]any{"post_deployment_info": map[string]any{"flyctl_version": "0.3.999"}}}
		if code := uiexCall(t, e, "PATCH", "/api/v1/releases/"+r.ID, body, &got); code != 200 || got.Status != want ||
			got.Stable != stable || got.InProgress != inProgress {
			t.Fatalf("update release to %s: %d %+v", want, code, got)
		}
		rels, err := e.gql.GetAppReleasesMachines(ctx(t), e.app, "", 25) // fly releases
		if err != nil || rels[0].Version != 63 || rels[0].Status != want || rels[0].ImageRef != image ||
			rels[0].Stable != stable || rels[0].User.Email == "" {
			t.Fatalf("fly releases after %s: %+v %v", want, rels[0], err)
		}
	}
	status(ReleaseRunning, false, true)
	if latest, err := e.gql.LatestImage(ctx(t), e.app); err != nil || latest != image {
		t.Fatalf("LatestImage %q %v", latest, err)
	}
	// What `fly scale count` and a later `fly deploy` read back.
	var cfg struct {
		App struct {
			CurrentReleaseUnprocessed struct {
				ConfigDefinition map[string]any `json:"configDefinition"`
			} `json:"currentReleaseUnprocessed"`
		} `json:"app"`
	}
	genqlient(t, e, flyctlConfigCurrentRelease, "FlyctlConfigCurrentRelease", map[string]any{"appName": e.app}, &cfg)
	if p, _ := cfg.App.CurrentReleaseUnprocessed.ConfigDefinition["processes"].(map[string]any); p["extra"] != "bin/extra" {
		t.Fatalf("configDefinition %v", cfg.App.CurrentReleaseUnprocessed.ConfigDefinition)
	}
	status(ReleaseFailed, false, false)
	status(ReleaseComplete, true, false) // a retried status update is idempotent
	if code := uiexCall(t, e, "PATCH", "/api/v1/releases/"+r.ID, map[string]any{"status": "done"}, nil); code != 422 {
		t.Fatalf("unknown status: %d", code)
	}
	if code := uiexCall(t, e, "PATCH", "/api/v1/releases/nope", map[string]any{"status": "failed"}, nil); code != 404 {
		t.Fatalf("unknown release: %d", code)
	}
	if code := uiexCall(t, e, "POST", "/api/v1/releases", uiexCreateRelease{AppName: "other", Image: image}, nil); code != 404 {
		t.Fatalf("release of another app: %d", code)
	}
	var list struct {
		Releases []uiexReleaseWire `json:"releases"`
	}
	if code := uiexCall(t, e, "GET", "/api/v1/apps/"+e.app+"/releases?limit=2", nil, &list); code != 200 ||
		len(list.Releases) != 2 || list.Releases[0].Version != 63 || list.Releases[0].Status != ReleaseComplete {
		t.Fatalf("list releases: %d %+v", code, list)
	}
	var cur uiexReleaseWire
	if code := uiexCall(t, e, "GET", "/api/v1/apps/"+e.app+"/releases/current", nil, &cur); code != 200 || cur.ID != r.ID {
		t.Fatalf("current release: %d %+v", code, cur)
	}
	if v := e.sim.Releases()[0]; v.Version != 63 || v.Status != ReleaseComplete || v.Image != image {
		t.Fatalf("Releases(): %+v", v)
	}
}

// flyctl's genqlient queries travel with their operationName.
const flyctlConfigCurrentRelease = `
query FlyctlConfigCurrentRelease ($appName: String!) {
	app(name: $appName) {
		currentReleaseUnprocessed {
			configDefinition
		}
	}
}
`

func genqlient(t *testing.T, e *env, query, op string, vars map[string]any, out any) []gqlError {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars, "operationName": op})
	req, _ := http.NewRequestWithContext(ctx(t), "POST", e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatal(err)
	}
	if len(answer.Errors) == 0 {
		if err := json.Unmarshal(answer.Data, out); err != nil {
			t.Fatal(err)
		}
	}
	return answer.Errors
}

// Before any deploy the current release's config is the fleet's own:
// processes web, worker and worker_autoscale, the release command, the
// services and checks the machines run (fly scale count worker=N needs it).
func TestConfigDefinitionOfTheScenario(t *testing.T) {
	e := newEnv(t, Options{Scenario: "majority", Machines: 10, NoRateLimit: true})
	var cfg struct {
		App struct {
			CurrentReleaseUnprocessed struct {
				ConfigDefinition struct {
					App       string            `json:"app"`
					Processes map[string]string `json:"processes"`
					Deploy    struct {
						ReleaseCommand string `json:"release_command"`
					} `json:"deploy"`
					Env      map[string]string `json:"env"`
					Services []struct {
						InternalPort int      `json:"internal_port"`
						Processes    []string `json:"processes"`
					} `json:"services"`
					Checks map[string]any `json:"checks"`
				} `json:"configDefinition"`
			} `json:"currentReleaseUnprocessed"`
		} `json:"app"`
	}
	genqlient(t, e, flyctlConfigCurrentRelease, "FlyctlConfigCurrentRelease", map[string]any{"appName": e.app}, &cfg)
	d := cfg.App.CurrentReleaseUnprocessed.ConfigDefinition
	if d.App != e.app || len(d.Processes) != 3 || d.Processes["worker"] != "bundle exec sidekiq" ||
		d.Deploy.ReleaseCommand != "bin/rake sidekiq:quiet" || len(d.Services) != 1 || d.Services[0].InternalPort != 8080 ||
		len(d.Services[0].Processes) != 3 || d.Checks["alive"] == nil || d.Env["RELEASE_LABEL"] == "" ||
		!strings.HasSuffix(e.sim.TargetImage(), "."+d.Env["RELEASE_LABEL"]) {
		t.Fatalf("configDefinition %+v", d)
	}
}

// `fly deploy --image` and `fly m update --image` resolve the image through
// fly-go's ResolveImageForApp; a release's image resolves to its digest.
func TestResolveImageForApp(t *testing.T) {
	e := newEnv(t, Options{Scenario: "majority", Machines: 10, NoRateLimit: true})
	img, err := e.gql.ResolveImageForApp(ctx(t), e.app, e.sim.PreviousImage())
	if err != nil || img == nil {
		t.Fatal(img, err)
	}
	m := firstWhere(t, e.sim, func(m MachineView) bool { return m.Image == e.sim.PreviousImage() })
	got, _ := e.flaps.Get(ctx(t), e.app, m.ID)
	if size, err := strconv.ParseUint(img.CompressedSize, 10, 64); err != nil || size == 0 ||
		img.Ref != e.sim.PreviousImage() || img.Digest != got.ImageRef.Digest || img.ID == "" {
		t.Fatalf("resolved %+v (machine's digest %s)", img, got.ImageRef.Digest)
	}
	if other, err := e.gql.ResolveImageForApp(ctx(t), e.app, "registry.fly.io/demo-app:hotfix"); err != nil || other.Ref != "registry.fly.io/demo-app:hotfix" || other.Digest == img.Digest {
		t.Fatalf("hotfix: %+v %v", other, err)
	}
	if _, err := e.gql.ResolveImageForApp(ctx(t), "nope", "x:y"); err == nil || !strings.Contains(err.Error(), `Could not find App "nope"`) {
		t.Fatalf("unknown app: %v", err)
	}
}

// `fly status`: latestImageDetails names no app; the answer for a
// repository Fly does not publish is "Unknown repository", which flyctl
// skips. Its --json form asks currentRelease:currentReleaseUnprocessed.
func TestStatusQueries(t *testing.T) {
	e := newEnv(t, Options{Scenario: "bad-release", Machines: 10, NoRateLimit: true})
	if _, err := e.gql.GetLatestImageDetails(ctx(t), "demo-app:demo-app.v62", "v62"); err == nil || !strings.Contains(err.Error(), "Unknown repository") {
		t.Fatalf("latestImageDetails: %v", err)
	}
	req := e.gql.NewRequest(`
		query ($appName: String!) {
			app(name:$appName) {
				currentRelease:currentReleaseUnprocessed {
					version
				}
			}
		}
	`)
	req.Var("appName", e.app)
	resp, err := e.gql.RunWithContext(ctx(t), req)
	if err != nil || resp.App.CurrentRelease == nil || resp.App.CurrentRelease.Version != 62 {
		t.Fatalf("status --json release: %+v %v", resp.App.CurrentRelease, err)
	}
	ips, err := e.gql.GetAppScopedEgressIPAddresses(ctx(t), e.app) // deploy's egress sanity check
	if err != nil || len(ips) != 0 {
		t.Fatalf("egress IPs: %v %v", ips, err)
	}
}

// The Machines API reads a deploy and a scale make besides the machines.
func TestIPAssignmentsAndVolumes(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 3})
	ips, err := e.flaps.GetIPAssignments(ctx(t), e.app)
	if err != nil || ips == nil || len(ips.IPs) != 0 {
		t.Fatalf("ip_assignments: %+v %v", ips, err)
	}
	vols, err := e.flaps.GetVolumes(ctx(t), e.app)
	if err != nil || len(vols) != 0 {
		t.Fatalf("volumes: %+v %v", vols, err)
	}
	if _, err := e.flaps.GetVolumes(ctx(t), "nope"); status(err) != 404 {
		t.Fatalf("volumes of an unknown app: %v", err)
	}
}

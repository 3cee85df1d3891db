package flysim

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// ownClient is a fly-go flaps client on a transport of its own, so how many
// times fly-go re-sends a request does not depend on connections other
// clients left in http.DefaultTransport's pool.
func ownClient(t *testing.T, srv *Server, token string, tr *http.Transport) *flaps.Client {
	t.Helper()
	host := srv.URL[len("http://"):]
	c, err := flaps.NewWithOptions(context.Background(), flaps.NewClientOpts{
		Tokens: tokens.Parse(token), UserAgent: "flyrescue-test",
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host, r.Host = "http", host, host
			return tr.RoundTrip(r)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func shortCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return c
}

// A lost answer: the change is applied, the connection closes without a
// byte, and fly-go does not send the mutation again (POST or DELETE, fresh
// or reused connection): exactly one mutation per call.
func TestLostAnswerIsAppliedAndNotResent(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 12, NoRateLimit: true, LostAnswerRate: 1, Speed: 5})
	ms := e.sim.Machines()
	stoppedOne := func(id string) {
		e.sim.SetLostAnswerRate(0)
		if err := e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: id}, ""); err != nil {
			t.Fatal(err)
		}
		if err := e.flaps.Wait(ctx(t), e.app, id, flaps.WithWaitStates("stopped")); err != nil {
			t.Fatal(err)
		}
		e.sim.ResetStats()
		e.sim.SetLostAnswerRate(1)
	}
	calls := []struct {
		name, route string
		prepare     func(id string)
		do          func(id string) error
		applied     func(v MachineView) bool
	}{
		{"update", "POST /v1/apps/{app}/machines/{id}", nil,
			func(id string) error { _, err := updateTo(t, e, id, e.sim.PreviousImage(), ""); return err },
			func(v MachineView) bool { return v.Image == e.sim.PreviousImage() && v.State == "replacing" }},
		{"stop", "POST /v1/apps/{app}/machines/{id}/stop", nil,
			func(id string) error { return e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: id}, "") },
			func(v MachineView) bool { return v.State == "stopping" }},
		{"start", "POST /v1/apps/{app}/machines/{id}/start", stoppedOne,
			func(id string) error { _, err := e.flaps.Start(ctx(t), e.app, id, ""); return err },
			func(v MachineView) bool { return v.State == "starting" }},
		{"restart", "POST /v1/apps/{app}/machines/{id}/restart", nil,
			func(id string) error { return e.flaps.Restart(ctx(t), e.app, fly.RestartMachineInput{ID: id}, "") },
			func(v MachineView) bool { return v.State == "restarting" }},
		{"suspend", "POST /v1/apps/{app}/machines/{id}/suspend", nil,
			func(id string) error { return e.flaps.Suspend(ctx(t), e.app, id, "") },
			func(v MachineView) bool { return v.State == "suspending" }},
		{"kill", "POST /v1/apps/{app}/machines/{id}/signal", nil,
			func(id string) error { return e.flaps.Kill(ctx(t), e.app, id) },
			func(v MachineView) bool { return v.State == "stopped" }},
		{"cordon", "POST /v1/apps/{app}/machines/{id}/cordon", nil,
			func(id string) error { return e.flaps.Cordon(ctx(t), e.app, id, "") },
			func(v MachineView) bool {
				m, _ := e.flaps.Get(ctx(t), e.app, v.ID)
				return m.Cordoned
			}},
		{"set metadata", "POST /v1/apps/{app}/machines/{id}/metadata/{key}", nil,
			func(id string) error { return e.flaps.SetMetadata(ctx(t), e.app, id, "owner", "ops") },
			func(v MachineView) bool { return v.Metadata["owner"] == "ops" }},
		{"delete metadata", "DELETE /v1/apps/{app}/machines/{id}/metadata/{key}", nil,
			func(id string) error { return e.flaps.DeleteMetadata(ctx(t), e.app, id, "fly_flyctl_version") },
			func(v MachineView) bool { _, ok := v.Metadata["fly_flyctl_version"]; return !ok }},
		{"destroy", "DELETE /v1/apps/{app}/machines/{id}", nil,
			func(id string) error {
				return e.flaps.Destroy(ctx(t), e.app, fly.RemoveMachineInput{ID: id, Kill: true}, "")
			},
			func(v MachineView) bool { return v.State == "destroying" }},
	}
	for i, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			id := ms[i].ID
			if c.prepare != nil {
				c.prepare(id)
			}
			e.sim.ResetStats()
			if i%2 == 0 {
				// Half go out on a keep-alive connection, the case where
				// net/http itself replays idempotent requests.
				if _, err := e.flaps.Get(ctx(t), e.app, id); err != nil {
					t.Fatal(err)
				}
			}
			err := c.do(id)
			if err == nil || status(err) != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("want a transport EOF without an HTTP status, got %v", err)
			}
			v, _ := e.sim.Machine(id)
			if !c.applied(v) {
				t.Fatalf("change not applied: %+v", v)
			}
			st := e.sim.Stats()
			if st.MutationsPerMachine[id] != 1 || st.LostAnswers != 1 || st.Requests[c.route]["lost"] != 1 || len(st.Requests[c.route]) != 1 {
				t.Fatalf("want exactly one applied, lost call: mutations %d, lost %d, requests %v",
					st.MutationsPerMachine[id], st.LostAnswers, st.Requests)
			}
		})
	}
	t.Run("launch", func(t *testing.T) {
		e.sim.ResetStats()
		before := len(e.sim.Machines())
		src, err := e.flaps.Get(ctx(t), e.app, ms[len(ms)-1].ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.flaps.Launch(ctx(t), e.app, fly.LaunchMachineInput{Region: "ord", Config: src.Config})
		if !errors.Is(err, io.EOF) {
			t.Fatalf("launch: %v", err)
		}
		st := e.sim.Stats()
		if len(e.sim.Machines()) != before+1 || len(st.MutationsPerMachine) != 1 || st.LostAnswers != 1 {
			t.Fatalf("launch: %d machines (was %d), stats %+v", len(e.sim.Machines()), before, st)
		}
	})
	t.Run("refused calls are answered", func(t *testing.T) {
		// A 409 changed nothing, so nothing is lost: the caller hears it.
		id := ms[len(ms)-1].ID
		if err := e.sim.HoldLease(id, "alice@example.com", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := e.flaps.Cordon(ctx(t), e.app, id, ""); status(err) != 409 {
			t.Fatalf("cordon of a leased machine: %v", err)
		}
	})
	if code, body := raw(t, e, "GET", "/_sim/stats", ""); code != 200 || body["lost_answers"].(float64) != 1 {
		t.Fatalf("stats JSON: %v", body)
	}
	t.Run("switched off", func(t *testing.T) {
		e.sim.SetLostAnswerRate(0)
		if err := e.flaps.Uncordon(ctx(t), e.app, ms[6].ID, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// A lost stop still takes the machine out of service: Unavailable and the
// peak see it although the caller heard nothing.
func TestLostAnswerCountsUnavailable(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 6, NoRateLimit: true, LostAnswerRate: 1})
	if n := len(e.sim.Unavailable()); n != 0 {
		t.Fatalf("healthy fleet has unavailable groups: %v", e.sim.Unavailable())
	}
	m := e.sim.Machines()[0]
	if err := e.flaps.Stop(ctx(t), e.app, fly.StopMachineInput{ID: m.ID}, ""); err == nil {
		t.Fatal("answer not lost")
	}
	if got := e.sim.Unavailable(); got[m.Group] != 1 || len(got) != 1 {
		t.Fatalf("unavailable %v, want %s:1", got, m.Group)
	}
	if peak := e.sim.Stats().PeakUnavailable; peak[m.Group] != 1 {
		t.Fatalf("peak %v", peak)
	}
}

// 5xx after sending: the change is made and the caller hears 500, the same
// text as a fault that changed nothing.
func TestAppliedError(t *testing.T) {
	e := newEnv(t, Options{Scenario: "total-failure", Machines: 100, NoRateLimit: true, AppliedErrorRate: 1})
	id := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == "" }).ID
	_, err := updateTo(t, e, id, e.sim.TargetImage(), "")
	if status(err) != 500 || !strings.HasSuffix(err.Error(), "internal: simulated fault") {
		t.Fatalf("update: %v", err)
	}
	if v, _ := e.sim.Machine(id); v.Image != e.sim.TargetImage() || v.State != "replacing" {
		t.Fatalf("not applied: %+v", v)
	}
	st := e.sim.Stats()
	if st.MutationsPerMachine[id] != 1 || st.AppliedErrors != 1 || st.Faults != 0 || st.Requests["POST /v1/apps/{app}/machines/{id}"]["500"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	// A lease conflict changed nothing and is answered as it is.
	leased := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == LeaseBot })
	if err := e.flaps.Cordon(ctx(t), e.app, leased.ID, ""); status(err) != 409 {
		t.Fatalf("cordon of a leased machine: %v", err)
	}
	e.sim.SetAppliedErrorRate(0)
	if err := e.flaps.Cordon(ctx(t), e.app, id, ""); err != nil {
		t.Fatal(err)
	}
}

// An outage with resets: nothing is applied. fly-go sends a mutation once,
// a GET up to four times (flaps retries ECONNRESET on GETs twice, and
// net/http replays a GET once when a keep-alive connection was reset) and a
// GraphQL query three times (fly-go retries ECONNRESET on queries twice).
func TestOutageReset(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 4, NoRateLimit: true})
	id := e.sim.Machines()[0].ID
	c := ownClient(t, e.srv, "t", &http.Transport{})
	if _, err := c.Get(ctx(t), e.app, id); err != nil { // leaves one idle connection
		t.Fatal(err)
	}
	e.sim.SetOutage(OutageReset, 0)
	_, err := c.Get(ctx(t), e.app, id)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("get: %v", err)
	}
	if n := e.sim.Stats().OutageDropped; n != 4 {
		t.Fatalf("a GET reached the sim %d times, want 4", n)
	}
	e.sim.ResetStats()
	if err := c.Cordon(ctx(t), e.app, id, ""); err == nil {
		t.Fatal("cordon answered during an outage")
	}
	st := e.sim.Stats()
	if st.OutageDropped != 1 || st.Requests["POST /v1/apps/{app}/machines/{id}/cordon"]["outage"] != 1 || len(st.MutationsPerMachine) != 0 {
		t.Fatalf("a mutation was re-sent or applied: %+v", st)
	}
	e.sim.ResetStats()
	gql := fly.NewClientFromOptions(fly.ClientOptions{BaseURL: e.srv.URL, Tokens: tokens.Parse("t"),
		Transport: &fly.Transport{UnderlyingTransport: &http.Transport{DisableKeepAlives: true}}})
	if _, err := gql.GetAppCurrentReleaseMachines(ctx(t), e.app); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("graphql: %v", err)
	}
	if n := e.sim.Stats().OutageDropped; n != 3 {
		t.Fatalf("a GraphQL query reached the sim %d times, want 3", n)
	}
	e.sim.SetOutage(OutageNone, 0)
	if _, err := c.Get(ctx(t), e.app, id); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

// A hang: a caller with a deadline gives up. fly-go does not return
// context.DeadlineExceeded: rehttp treats it as temporary, then sees the
// context done and answers "net/http: request canceled", so callers must
// check ctx.Err() themselves.
func TestOutageHang(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 4, NoRateLimit: true, Outage: OutageHang})
	id := e.sim.Machines()[0].ID
	short := shortCtx(t)
	_, err := e.flaps.Get(short, e.app, id)
	if err == nil || short.Err() != context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "net/http: request canceled") {
		t.Fatalf("get: %v (ctx %v)", err, short.Err())
	}
	// The outage is still on: stats answer, and counted the drop.
	code, body := raw(t, e, "GET", "/_sim/stats", "")
	if code != 200 || body["outage_dropped"].(float64) != 1 {
		t.Fatalf("stats during the outage: %d %v", code, body)
	}
	if err := e.flaps.Cordon(shortCtx(t), e.app, id, ""); err == nil {
		t.Fatal("cordon answered")
	}
	if _, err := e.gql.GetAppCurrentReleaseMachines(shortCtx(t), e.app); err == nil {
		t.Fatal("graphql answered")
	}
	st := e.sim.Stats()
	if st.OutageDropped != 3 || len(st.MutationsPerMachine) != 0 {
		t.Fatalf("stats %+v", st)
	}
	// A timed hang closes what it held, unanswered and unapplied, when it ends.
	e.sim.SetOutage(OutageHang, 100*time.Millisecond)
	if err := e.flaps.Cordon(ctx(t), e.app, id, ""); !errors.Is(err, io.EOF) {
		t.Fatalf("cordon at the end of a hang: %v", err)
	}
	if m, err := e.flaps.Get(ctx(t), e.app, id); err != nil || m.Cordoned {
		t.Fatalf("after the hang: cordoned %v, %v", m.Cordoned, err)
	}
}

// A drip serves the request for real and holds its body back: reads time
// out while decoding, fly-go calls that decode nothing (stop, cordon...)
// succeed on the headers alone, and the body completes when the outage ends.
func TestOutageDrip(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 4, NoRateLimit: true})
	id := e.sim.Machines()[0].ID
	e.sim.SetOutage(OutageDrip, 0)
	if _, err := e.flaps.Get(shortCtx(t), e.app, id); !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "failed decoding response") {
		t.Fatalf("get: %v", err)
	}
	if _, err := e.gql.GetAppCurrentReleaseMachines(shortCtx(t), e.app); err == nil {
		t.Fatal("graphql answered")
	}
	if err := e.flaps.Cordon(ctx(t), e.app, id, ""); err != nil {
		t.Fatalf("cordon: %v", err)
	}
	if code, body := raw(t, e, "GET", "/_sim/stats", ""); code != 200 || body["outage_dropped"].(float64) != 3 ||
		body["mutations_per_machine"].(map[string]any)[id].(float64) != 1 {
		t.Fatalf("stats during the drip: %v", body)
	}
	e.sim.SetOutage(OutageDrip, 100*time.Millisecond)
	m, err := e.flaps.Get(ctx(t), e.app, id)
	if err != nil || m.ID != id || !m.Cordoned {
		t.Fatalf("get across the end of a drip: %+v %v", m, err)
	}
}

func TestParseOutage(t *testing.T) {
	for in, want := range map[string]struct {
		mode OutageMode
		d    time.Duration
	}{"reset": {OutageReset, 0}, "hang:30s": {OutageHang, 30 * time.Second}, "drip:1m": {OutageDrip, time.Minute}} {
		mode, d, err := ParseOutage(in)
		if err != nil || mode != want.mode || d != want.d {
			t.Errorf("%s: %v %v %v", in, mode, d, err)
		}
	}
	for _, bad := range []string{"", "down", "hang:", "hang:-1s", "hang:soon"} {
		if _, _, err := ParseOutage(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// EchoAuth: the token comes back in the error text fly-go surfaces, from
// REST errors (the "error" and "message" shapes) and GraphQL errors alike.
func TestEchoAuthLeaksTokenIntoErrors(t *testing.T) {
	const token = "FlyV1 fm2_lJPECAAAAAAAAMsecretsecret,fm2_lJPEsecondpart=="
	e := newEnv(t, Options{Scenario: "total-failure", Machines: 100, NoRateLimit: true, Token: token, EchoAuth: true})
	c := clientFor(t, e.srv, token)
	gql := gqlFor(e.srv, token)
	leased := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == LeaseBot }).ID
	free := firstWhere(t, e.sim, func(m MachineView) bool { return m.LeaseOwner == "" }).ID
	leaks := func() map[string]error {
		e.sim.SetFaultRate(1)
		defer e.sim.SetFaultRate(0)
		_, notFound := c.Get(ctx(t), e.app, "00000000000000")
		_, gqlErr := gql.GetAppCurrentReleaseMachines(ctx(t), "nope")
		return map[string]error{
			"500":     c.Cordon(ctx(t), e.app, free, ""),
			"404":     notFound,
			"409":     c.Cordon(ctx(t), e.app, leased, ""),
			"graphql": gqlErr,
		}
	}
	for name, err := range leaks() {
		if err == nil || !strings.Contains(err.Error(), "(request Authorization: "+token+")") {
			t.Errorf("%s: token not echoed: %v", name, err)
		}
	}
	_, err := clientFor(t, e.srv, "wrong-token").List(ctx(t), e.app, "")
	if status(err) != 401 || !strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("401 does not echo the wrong token: %v", err)
	}
	e.sim.SetEchoAuth(false)
	for name, err := range leaks() {
		if err == nil || strings.Contains(err.Error(), "fm2_") {
			t.Errorf("%s after SetEchoAuth(false): %v", name, err)
		}
	}
}

// The trap behind "sent once": rehttp re-sends any request, POST included,
// whose transport error says Temporary(). A header timeout on the transport
// is such an error, so a mutation that hangs is sent four times.
func TestFlyGoResendsMutationsOnTransportTimeouts(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 4, NoRateLimit: true, Outage: OutageHang})
	c := ownClient(t, e.srv, "t", &http.Transport{ResponseHeaderTimeout: 50 * time.Millisecond})
	err := c.Cordon(ctx(t), e.app, e.sim.Machines()[0].ID, "")
	if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("cordon: %v", err)
	}
	if n := e.sim.Stats().OutageDropped; n != 4 {
		t.Fatalf("the cordon reached the sim %d times, want 4 (1 + rehttp's 3 retries)", n)
	}
}

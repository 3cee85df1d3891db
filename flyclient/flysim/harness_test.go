package flysim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// loopback sends fly-go's requests (aimed at api.machines.dev) to a sim, so
// two sims can run in one process without FLY_FLAPS_BASE_URL.
type loopback struct{ host string }

func (l loopback) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "http", l.host, l.host
	return http.DefaultTransport.RoundTrip(r)
}

type env struct {
	srv   *Server
	sim   *Sim
	flaps *flaps.Client
	gql   *fly.Client
	app   string
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	if opts.Speed == 0 {
		opts.Speed = 500
	}
	srv, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &env{srv: srv, sim: srv.Sim, flaps: clientFor(t, srv, "t"), gql: gqlFor(srv, "t"), app: srv.Sim.App()}
}

func clientFor(t testing.TB, srv *Server, token string) *flaps.Client {
	t.Helper()
	c, err := flaps.NewWithOptions(context.Background(), flaps.NewClientOpts{
		Tokens: tokens.Parse(token), UserAgent: "flyrescue-test",
		Transport: loopback{host: srv.URL[len("http://"):]},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func gqlFor(srv *Server, token string) *fly.Client {
	return fly.NewClientFromOptions(fly.ClientOptions{BaseURL: srv.URL, Tokens: tokens.Parse(token), Name: "flyrescue", Version: "test"})
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// status extracts the HTTP status of a flaps error (0 if none).
func status(err error) int {
	var fe *flaps.FlapsError
	if errors.As(err, &fe) {
		return fe.ResponseStatusCode
	}
	return 0
}

// firstWhere returns a machine of the sim matching pred.
func firstWhere(t testing.TB, s *Sim, pred func(MachineView) bool) MachineView {
	t.Helper()
	for _, m := range s.Machines() {
		if pred(m) {
			return m
		}
	}
	t.Fatal("no machine matches")
	return MachineView{}
}

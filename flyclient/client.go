// Package flyclient is flyrescue's only door to the Fly.io APIs. It wraps
// fly-go's Machines (flaps) client and its GraphQL client behind a narrow set
// of methods, maps their errors to typed, matchable errors that say what to
// do, and converts API objects into model types. No other package imports
// fly-go: they use the aliases below.
package flyclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// Aliases so the rest of flyrescue can hold API objects without importing
// fly-go.
type (
	Machine       = fly.Machine
	MachineConfig = fly.MachineConfig
	MachineEvent  = fly.MachineEvent
)

// Default API endpoints, as flyctl uses them.
const (
	DefaultFlapsBaseURL = "https://api.machines.dev"
	DefaultAPIBaseURL   = "https://api.fly.io"
)

// Config says how to reach the APIs. Empty base URLs fall back to the
// environment (FLY_FLAPS_BASE_URL, FLY_API_BASE_URL) as flyctl does, then to
// Fly's public endpoints.
type Config struct {
	Token        string // a macaroon ("FlyV1 fm2_...") or a plain token; never logged
	FlapsBaseURL string
	APIBaseURL   string
	UserAgent    string
	// Transport is the base transport; nil uses http.DefaultTransport with
	// connecting bounded to 5s.
	Transport http.RoundTripper
	// RequestTimeout bounds every API call, fly-go's retries included:
	// connecting, the response headers and the whole body (a wait gets the
	// time the server may hold it on top). 0 means DefaultRequestTimeout. A
	// call with no complete answer in time fails with ErrUnreachable.
	RequestTimeout time.Duration
}

// Client talks to one Fly organisation's Machines API and GraphQL API.
type Client struct {
	flaps    *flaps.Client
	gql      *fly.Client
	flapsURL string
	apiURL   string
	timeout  time.Duration
	// raw serves the few Machines API calls fly-go v0.9.3 cannot make
	// whole (the lease's description); auth is its Authorization value,
	// never logged.
	raw  *http.Client
	auth string
	ua   string
}

// New builds a client. It does not touch the network.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		// tokens.Parse("") is not Empty() and would send "Bearer ".
		return nil, &Error{Kind: ErrUnauthorized, Op: "connect", Message: "no Fly API token"}
	}
	if strings.ContainsFunc(cfg.Token, unicode.IsControl) {
		// It could not be sent in a header; fly-go would fail it as a
		// network error.
		return nil, &Error{Kind: ErrUnauthorized, Op: "connect", Message: "the token has a newline or another control character in it: check FLY_API_TOKEN / --access-token"}
	}
	flapsURL, err := resolveBaseURL(cfg.FlapsBaseURL, "FLY_FLAPS_BASE_URL", DefaultFlapsBaseURL)
	if err != nil {
		return nil, err
	}
	apiURL, err := resolveBaseURL(cfg.APIBaseURL, "FLY_API_BASE_URL", DefaultAPIBaseURL)
	if err != nil {
		return nil, err
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	base := cfg.Transport
	if base == nil {
		base = newTransport(timeout)
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "flyrescue"
	}
	RegisterSecret(cfg.Token)
	toks := tokens.Parse(cfg.Token)

	// flaps reads its base URL from the process environment only, once. To let
	// two clients aim at two servers in one process without touching the
	// environment, every flaps request is re-aimed by the transport.
	fc, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{
		UserAgent: ua,
		Tokens:    toks,
		Transport: &rebaseTransport{base: flapsURL, next: base},
	})
	if err != nil {
		return nil, fmt.Errorf("building Machines API client: %w", err)
	}
	name, ver, _ := strings.Cut(ua, "/")
	gql := fly.NewClientFromOptions(fly.ClientOptions{
		Tokens:  toks,
		BaseURL: strings.TrimRight(apiURL.String(), "/"),
		Name:    name,
		Version: ver,
		// fly-go's REST calls beside GraphQL (GetAppLogs) build their URL
		// from its package-level base URL, not from BaseURL: the transport
		// aims them at this client's API as well. fly-go may resend these
		// reads on a 502/503 as it does GraphQL queries.
		Transport: &fly.Transport{UnderlyingTransport: &rebaseTransport{base: apiURL, next: base, reads: true}},
	})
	return &Client{flaps: fc, gql: gql, flapsURL: flapsURL.String(), apiURL: apiURL.String(), timeout: timeout,
		raw: &http.Client{Transport: base}, auth: toks.FlapsHeader(), ua: ua}, nil
}

// FlapsURL is the Machines API base URL in use.
func (c *Client) FlapsURL() string { return c.flapsURL }

// RequestTimeout is the deadline of one API call.
func (c *Client) RequestTimeout() time.Duration { return c.timeout }

// APIURL is the GraphQL API base URL in use.
func (c *Client) APIURL() string { return c.apiURL }

func resolveBaseURL(explicit, envKey, fallback string) (*url.URL, error) {
	raw := explicit
	if raw == "" {
		raw = os.Getenv(envKey)
	}
	if raw == "" {
		raw = fallback
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid API base URL %q (set %s to a URL like http://127.0.0.1:4280)", raw, envKey)
	}
	return u, nil
}

// rebaseTransport sends each request to base's scheme and host, keeping the
// path and query fly-go built (a URL built with no host, from fly-go's unset
// package-level base URL, gets base's path in front too).
type rebaseTransport struct {
	base *url.URL
	next http.RoundTripper
	// reads: the requests are GraphQL queries and logs reads, which fly-go
	// may resend on a 502/503; otherwise noResend applies.
	reads bool
}

func (t *rebaseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req
	if req.URL.Scheme != t.base.Scheme || req.URL.Host != t.base.Host {
		r = req.Clone(req.Context())
		if req.URL.Host == "" {
			r.URL.Path = strings.TrimRight(t.base.Path, "/") + r.URL.Path
		}
		r.URL.Scheme = t.base.Scheme
		r.URL.Host = t.base.Host
		r.Host = t.base.Host
	}
	resp, err := t.next.RoundTrip(r)
	if t.reads {
		return resp, err
	}
	return noResend(req, resp), err
}

// noResend stops fly-go sending a mutation again by itself: its transport
// (rehttp) retries every 502 and 503, POST and DELETE included, and a proxy
// may answer 503 after the machine was changed. Such an answer reaches
// fly-go as a 500 (the same "may have happened" to flyrescue: the engine
// reads the machine and decides), with the real status in the body's text.
func noResend(req *http.Request, resp *http.Response) *http.Response {
	if resp == nil || req.Method == http.MethodGet || req.Method == http.MethodHead {
		return resp
	}
	if resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable {
		return resp
	}
	was := resp.StatusCode
	resp.Header.Set("X-Flyrescue-Status", strconv.Itoa(was))
	resp.StatusCode = http.StatusInternalServerError
	resp.Status = fmt.Sprintf("500 Internal Server Error (the API answered %d)", was)
	return resp
}

package flyclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// Lease is an exclusive lock on changing one machine.
type Lease struct {
	Nonce       string
	Owner       string
	Description string
	Version     string // the machine's instance ID when the lease was taken
	ExpiresAt   time.Time
}

func leaseFrom(l *fly.MachineLease) *Lease {
	if l == nil || l.Data == nil {
		return nil
	}
	return &Lease{
		Nonce: l.Data.Nonce, Owner: l.Data.Owner, Version: l.Data.Version,
		ExpiresAt: time.Unix(l.Data.ExpiresAt, 0),
	}
}

// acquireAttemptTimeout bounds fly-go's AcquireLease, which otherwise retries
// every error, a held lease included, for a whole minute.
const acquireAttemptTimeout = 4 * time.Second

// AcquireLease takes a lease for ttl. A lease someone else holds fails at once
// with a *LeaseHeldError naming them.
func (c *Client) AcquireLease(ctx context.Context, app, id string, ttl time.Duration) (*Lease, error) {
	return c.AcquireLeaseAs(ctx, app, id, ttl, "")
}

// AcquireLeaseAs takes a lease for ttl that says who holds it and why
// (description: teammates see it in `fly m leases view` and in flyrescue).
// A lease already held with exactly this non-empty description is ours,
// from an attempt whose answer was lost: it is adopted with its nonce, not
// waited out for its whole TTL.
func (c *Client) AcquireLeaseAs(ctx context.Context, app, id string, ttl time.Duration, description string) (*Lease, error) {
	if held, err := c.FindLease(ctx, app, id); err != nil {
		return nil, err
	} else if held != nil && held.ExpiresAt.Add(time.Second).After(time.Now()) { // expires_at is in whole seconds
		if description != "" && held.Description == description && held.Nonce != "" {
			return held, nil
		}
		return nil, &LeaseHeldError{MachineID: id, Owner: held.Owner, Description: held.Description, ExpiresAt: held.ExpiresAt}
	}
	secs := max(1, int(ttl.Seconds()))
	if description != "" {
		return c.acquireDescribed(ctx, app, id, secs, description)
	}
	bctx, bcancel := c.bound(ctx, machinesAPI, 0)
	defer bcancel()
	actx, cancel := context.WithTimeout(bctx, acquireAttemptTimeout)
	defer cancel()
	l, err := c.flaps.AcquireLease(actx, app, id, &secs)
	if err == nil {
		if lease := leaseFrom(l); lease != nil && lease.Nonce != "" {
			return lease, nil
		}
		return nil, &Error{Kind: ErrServer, Op: "lease", App: app, MachineID: id, Message: "the API granted a lease without a nonce"}
	}
	if ctx.Err() != nil {
		return nil, wrap(ctx.Err(), "lease", app, id)
	}
	if bctx.Err() != nil {
		return nil, finish(bctx, err, "lease", app, id)
	}
	// Someone may have taken it between our look and our request; the
	// timeout swallowed the 409's text, so look again to name them.
	if held, ferr := c.FindLease(ctx, app, id); ferr == nil && held != nil {
		return nil, &LeaseHeldError{MachineID: id, Owner: held.Owner, Description: held.Description, ExpiresAt: held.ExpiresAt}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &Error{Kind: ErrTimeout, Op: "lease", App: app, MachineID: id, Message: "could not get a lease in time", Err: err}
	}
	werr := wrap(err, "lease", app, id)
	if e, ok := werr.(*Error); ok && e.Kind == ErrLeaseHeld {
		return nil, &LeaseHeldError{MachineID: id, Owner: ownerFromMessage(e.Message)}
	}
	return nil, werr
}

// leaseWire is the API's lease answer, description included.
type leaseWire struct {
	Data *struct {
		Nonce       string `json:"nonce"`
		ExpiresAt   int64  `json:"expires_at"`
		Owner       string `json:"owner"`
		Description string `json:"description"`
		Version     string `json:"version"`
	} `json:"data"`
}

func (w leaseWire) lease() *Lease {
	d := w.Data
	return &Lease{Nonce: d.Nonce, Owner: d.Owner, Description: d.Description, Version: d.Version, ExpiresAt: time.Unix(d.ExpiresAt, 0)}
}

// acquireDescribed creates a lease with a description, which fly-go v0.9.3
// cannot send: one POST of the API's CreateLeaseRequest.
func (c *Client) acquireDescribed(ctx context.Context, app, id string, secs int, description string) (*Lease, error) {
	bctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	var out leaseWire
	path := fmt.Sprintf("/v1/apps/%s/machines/%s/lease?ttl=%d", url.PathEscape(app), url.PathEscape(id), secs)
	var status int
	var msg string
	for try := 1; ; try++ {
		var err error
		status, msg, err = c.doJSON(bctx, http.MethodPost, path, map[string]any{"ttl": secs, "description": description}, &out)
		if err != nil {
			return nil, finish(bctx, err, "lease", app, id)
		}
		if status != http.StatusConflict {
			break
		}
		held, ferr := c.FindLease(ctx, app, id)
		if ferr == nil && held != nil {
			return nil, &LeaseHeldError{MachineID: id, Owner: held.Owner, Description: held.Description, ExpiresAt: held.ExpiresAt}
		}
		// Held when we asked, gone when we looked: it expired in between
		// (expires_at is in whole seconds). Ask again, briefly.
		if try == 3 {
			return nil, &LeaseHeldError{MachineID: id, Owner: ownerFromMessage(msg), ExpiresAt: time.Now().Add(time.Second)}
		}
		select {
		case <-bctx.Done():
			return nil, finish(bctx, bctx.Err(), "lease", app, id)
		case <-time.After(300 * time.Millisecond):
		}
	}
	switch {
	case status != http.StatusOK && status != http.StatusCreated:
		return nil, &Error{Kind: kindForStatus(status, msg), Op: "lease", App: app, MachineID: id, Status: status, Message: Redact(msg)}
	case out.Data == nil || out.Data.Nonce == "":
		return nil, &Error{Kind: ErrServer, Op: "lease", App: app, MachineID: id, Message: "the API granted a lease without a nonce"}
	}
	return out.lease(), nil
}

// ownerFromMessage digs the owner out of "lease currently held by X, expires at ...".
func ownerFromMessage(msg string) string {
	_, after, ok := strings.Cut(msg, "held by ")
	if !ok {
		return ""
	}
	owner, _, _ := strings.Cut(after, ",")
	return strings.TrimSpace(owner)
}

// RefreshLease extends a lease we hold.
func (c *Client) RefreshLease(ctx context.Context, app, id, nonce string, ttl time.Duration) (*Lease, error) {
	secs := max(1, int(ttl.Seconds()))
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	l, err := c.flaps.RefreshLease(ctx, app, id, &secs, nonce)
	if err != nil {
		return nil, finish(ctx, err, "refresh lease on", app, id)
	}
	lease := leaseFrom(l)
	if lease == nil || lease.Nonce != nonce {
		return nil, &Error{Kind: ErrLeaseHeld, Op: "refresh lease on", App: app, MachineID: id, Message: "the lease was lost"}
	}
	return lease, nil
}

// ReleaseLease gives a lease back. A lease that already expired is not an
// error.
func (c *Client) ReleaseLease(ctx context.Context, app, id, nonce string) error {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	err := finish(ctx, c.flaps.ReleaseLease(ctx, app, id, nonce), "release lease on", app, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// FindLease returns the machine's current lease, or nil when it has none.
//
// It reads the lease itself rather than through fly-go, whose v0.9.3 lease
// type drops the description ("fly deploy", a teammate's note), which is
// what tells an operator whose lease it is.
func (c *Client) FindLease(ctx context.Context, app, id string) (*Lease, error) {
	ctx, cancel := c.bound(ctx, machinesAPI, 0)
	defer cancel()
	var body leaseWire
	path := "/v1/apps/" + url.PathEscape(app) + "/machines/" + url.PathEscape(id) + "/lease"
	status, msg, err := c.getJSON(ctx, path, &body)
	switch {
	case err != nil:
		return nil, finish(ctx, err, "look up lease on", app, id)
	case status == http.StatusNotFound && strings.Contains(strings.ToLower(msg), "lease"):
		return nil, nil
	case status != http.StatusOK:
		return nil, &Error{Kind: kindForStatus(status, msg), Op: "look up lease on", App: app, MachineID: id, Status: status, Message: Redact(msg)}
	case body.Data == nil:
		return nil, nil
	}
	return body.lease(), nil
}

// getJSON GETs path on the Machines API and decodes a 200 into out; other
// statuses come back with the API's error text.
func (c *Client) getJSON(ctx context.Context, path string, out any) (int, string, error) {
	return c.doJSON(ctx, http.MethodGet, path, nil, out)
}

// doJSON sends in (nil: no body) to path on the Machines API and decodes a
// 200 or 201 into out; other statuses come back with the API's error text.
// It makes exactly one request: no transport retries.
func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) (int, string, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, "", err
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.flapsURL, "/")+path, body)
	if err != nil {
		return 0, "", err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.raw.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, "", err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		msg := e.Error
		if msg == "" {
			msg = e.Message
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return resp.StatusCode, msg, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, "", fmt.Errorf("decoding %s: %w", path, err)
	}
	return resp.StatusCode, "", nil
}

// String describes a lease without its nonce, which is a secret.
func (l *Lease) String() string {
	return fmt.Sprintf("lease by %s until %s", l.Owner, l.ExpiresAt.UTC().Format(time.RFC3339))
}

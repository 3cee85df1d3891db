package flyclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultRequestTimeout bounds one API call when Config.RequestTimeout is 0.
const DefaultRequestTimeout = 30 * time.Second

// dialTimeout bounds connecting (TCP and TLS) to an API.
const dialTimeout = 5 * time.Second

// The APIs, as "no answer from the ..." names them.
const (
	machinesAPI = "Machines API"
	graphqlAPI  = "Fly GraphQL API"
)

// noAnswerError is the cause of a per-request deadline: the API took longer
// than we allow to answer, headers and whole body included. It is an
// ErrUnreachable, not an ErrTimeout: nothing is known about the machine.
type noAnswerError struct {
	api   string
	after time.Duration
}

func (e *noAnswerError) Error() string {
	return fmt.Sprintf("no answer from the %s within %s", e.api, e.after)
}

// isNoAnswer reports whether err is a call that ran out its own deadline.
func isNoAnswer(err error) bool {
	var na *noAnswerError
	return errors.As(err, &na)
}

// bound gives one API call its deadline: the request timeout plus extra
// (the time the server may legitimately hold a wait). fly-go's own retries
// (rehttp retries 502/503 and network errors up to 3 times) run inside it,
// so the whole call, retries included, ends by then.
func (c *Client) bound(ctx context.Context, api string, extra time.Duration) (context.Context, context.CancelFunc) {
	d := c.timeout + extra
	return context.WithTimeoutCause(ctx, d, &noAnswerError{api: api, after: d})
}

// finish is wrap for a call made under bound's context: when that call's
// own deadline (not the caller's) ended it, the API gave no answer in time.
func finish(ctx context.Context, err error, op, app, machineID string) error {
	if err == nil {
		return nil
	}
	var na *noAnswerError
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &na) {
		return &Error{Kind: ErrUnreachable, Op: op, App: app, MachineID: machineID,
			Message: na.Error(), Err: RedactError(fmt.Errorf("%w: %w", na, err))}
	}
	return wrap(err, op, app, machineID)
}

// newTransport is http.DefaultTransport with a bounded dial and TLS
// handshake. The per-call context bounds the whole answer. No
// ResponseHeaderTimeout: its error says Temporary(), and fly-go's rehttp
// then sends a POST that may have been carried out again (flysim's
// TestFlyGoResendsMutationsOnTransportTimeouts); a cancelled context is
// not retried.
func newTransport(time.Duration) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = dialTimeout
	return t
}

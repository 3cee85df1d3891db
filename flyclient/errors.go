package flyclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/graphql"
)

// Kinds of failure, matchable with errors.Is. Every error this package
// returns for an API call is an *Error (or *LeaseHeldError) of one kind.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("unauthorized")
	ErrLeaseHeld    = errors.New("lease held by someone else")
	ErrRateLimited  = errors.New("rate limited")
	ErrMachineBusy  = errors.New("machine busy")
	ErrPrecondition = errors.New("precondition failed")
	ErrTimeout      = errors.New("timed out")
	ErrServer       = errors.New("server error")
	ErrInvalid      = errors.New("invalid request")
	ErrUnreachable  = errors.New("API unreachable")
)

// Error is a failed API call: what was attempted, on what, and why.
type Error struct {
	Kind      error // one of the Err* sentinels
	Op        string
	App       string
	MachineID string
	Status    int    // HTTP status, 0 when the request never got an answer
	Message   string // the API's own words
	Err       error  // the underlying fly-go error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.MachineID != "" {
		b.WriteString(" machine " + e.MachineID)
	} else if e.App != "" {
		b.WriteString(" app " + e.App)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if h := e.hint(); h != "" {
		b.WriteString(" (" + h + ")")
	}
	return b.String()
}

// hint says what to do about the failure.
func (e *Error) hint() string {
	switch e.Kind {
	case ErrNotFound:
		if e.MachineID != "" {
			return "it may have been destroyed; refresh the fleet"
		}
		return "check -a/--app or FLY_APP"
	case ErrUnauthorized:
		if e.Status == http.StatusForbidden {
			return "the token works but has no access to this app: log in as a member of its organization (`fly auth login`) or use a token for it (`fly tokens create deploy -a APP`)"
		}
		return "the token is missing, wrong or expired: run `fly auth login` or set FLY_API_TOKEN"
	case ErrRateLimited:
		return "the Machines API rate limit held after retries with backoff: wait a minute and retry, and stop anything else polling this app (a `fly m list` loop, another dashboard)"
	case ErrMachineBusy:
		return "wait for the machine to settle, then retry"
	case ErrPrecondition:
		if strings.Contains(e.Op, "destroy") {
			return "stop it first or destroy with force"
		}
		return "the machine is not in a state that allows this"
	case ErrTimeout:
		return "the machine did not get there in time"
	case ErrServer:
		return "a Fly API failure; usually transient, retry"
	case ErrUnreachable:
		if isNoAnswer(e.Err) {
			return "the API took the request but did not answer in time: retry in a minute, check https://status.flyio.net, and FLY_FLAPS_BASE_URL / FLY_API_BASE_URL"
		}
		return "check the network and FLY_FLAPS_BASE_URL / FLY_API_BASE_URL"
	}
	return ""
}

func (e *Error) Is(target error) bool { return target == e.Kind }
func (e *Error) Unwrap() error        { return e.Err }

// LeaseHeldError says who holds the lease that stopped us.
type LeaseHeldError struct {
	MachineID   string
	Owner       string
	Description string // what the holder said it is doing, when known
	ExpiresAt   time.Time
}

func (e *LeaseHeldError) Error() string {
	owner := e.Owner
	if owner == "" {
		owner = "someone else"
	}
	s := fmt.Sprintf("machine %s is leased by %s", e.MachineID, owner)
	if d := strings.TrimSpace(e.Description); d != "" {
		s += fmt.Sprintf(" (%q)", Redact(d))
	}
	if !e.ExpiresAt.IsZero() {
		s += fmt.Sprintf(" until %s", e.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return s + " (wait for it to expire, or if its owner is gone clear it with `flyrescue clear-lease ID`)"
}

func (e *LeaseHeldError) Is(target error) bool { return target == ErrLeaseHeld }

// IsTransient reports whether retrying the same call may succeed.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	for _, k := range []error{ErrRateLimited, ErrServer, ErrTimeout, ErrMachineBusy, ErrUnreachable} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// wrap turns a fly-go error into an *Error.
func wrap(err error, op, app, machineID string) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, App: app, MachineID: machineID, Err: err, Message: err.Error()}
	var fe *flaps.FlapsError
	var ge *graphql.GraphQLError
	switch {
	case errors.As(err, &fe):
		e.Status = fe.ResponseStatusCode
		if fe.OriginalError != nil {
			e.Message = fe.OriginalError.Error()
		}
		e.Kind = kindForStatus(fe.ResponseStatusCode, e.Message)
	case errors.As(err, &ge):
		e.Message = ge.Message
		e.Kind = kindForGraphQL(ge.Extensions.Code, ge.Message)
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind, e.Message = ErrTimeout, "no answer in time"
	case errors.Is(err, context.Canceled):
		e.Kind, e.Message = context.Canceled, "canceled"
	default:
		e.Kind = kindForTransport(err)
	}
	if e.Message == "" {
		e.Message = http.StatusText(e.Status)
	}
	// The server's words may echo our Authorization header.
	e.Message = Redact(e.Message)
	if e.Err != nil {
		e.Err = RedactError(e.Err)
	}
	return e
}

func kindForStatus(status int, msg string) error {
	lower := strings.ToLower(msg)
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusRequestTimeout:
		return ErrTimeout
	case status == http.StatusConflict && strings.Contains(lower, "lease currently held"):
		return ErrLeaseHeld
	case status == http.StatusConflict && (strings.Contains(lower, "replacing") || strings.Contains(lower, "concurrent")):
		return ErrMachineBusy
	case status == http.StatusConflict:
		return ErrPrecondition
	case status == http.StatusPreconditionFailed:
		if strings.Contains(lower, "replacing") {
			return ErrMachineBusy
		}
		return ErrPrecondition
	case status >= 500:
		return ErrServer
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return ErrInvalid
	}
	return ErrInvalid
}

func kindForGraphQL(code, msg string) error {
	switch strings.ToUpper(code) {
	case "NOT_FOUND":
		return ErrNotFound
	case "UNAUTHORIZED", "UNAUTHENTICATED", "FORBIDDEN":
		return ErrUnauthorized
	}
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "could not find"), strings.Contains(lower, "not found"):
		return ErrNotFound
	case strings.Contains(lower, "authenticated"), strings.Contains(lower, "unauthorized"):
		return ErrUnauthorized
	}
	return ErrServer
}

func kindForTransport(err error) error {
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "non-200 status code: 401") || strings.Contains(msg, "non-200 status code: 403") {
		return ErrUnauthorized
	}
	if strings.Contains(msg, "non-200 status code: 404") {
		return ErrNotFound
	}
	if strings.Contains(msg, "non-200 status code: 429") {
		return ErrRateLimited
	}
	if strings.Contains(msg, "non-200 status code: 5") {
		return ErrServer
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "no such host") || strings.Contains(msg, "eof") || strings.Contains(msg, "unreachable") {
		return ErrUnreachable
	}
	return ErrServer
}

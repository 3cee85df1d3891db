package flyclient

import (
	"context"
	"errors"
	"time"

	fly "github.com/superfly/fly-go"
)

// logsAPI names the logs endpoint (api.fly.io, beside GraphQL) in errors.
const logsAPI = "Fly logs API"

// LogEntry is one line of an app's logs.
type LogEntry struct {
	Time     time.Time // zero when the API sent no parsable timestamp
	Instance string    // the machine's ID
	Region   string
	Level    string // info, warn, error...
	Provider string // who wrote it: app (the machine's output), runner (flyd), proxy
	Message  string
}

// LogsOptions narrow a read of the logs and say where to continue from.
type LogsOptions struct {
	Instance string // only this machine's lines
	Region   string // only lines from machines in this region
	// Token is the NextToken of the page read before; "" asks for the
	// newest page.
	Token string
}

// LogPage is one read of the logs: lines oldest first, and the token that
// asks for the lines after them.
type LogPage struct {
	Entries   []LogEntry
	NextToken string
}

// Logs reads one page of app's logs (what `fly logs` polls). To follow a
// machine, call it again with the page's NextToken: only newer lines come
// back, none when nothing happened; NextToken then stays where it was.
func (c *Client) Logs(ctx context.Context, app string, opts LogsOptions) (*LogPage, error) {
	ctx, cancel := c.bound(ctx, logsAPI, 0)
	defer cancel()
	// fly-go builds this URL from its package-level base URL; the client's
	// transport aims it at this client's API (see New).
	entries, token, err := c.gql.GetAppLogs(ctx, app, opts.Token, opts.Region, opts.Instance)
	if err != nil {
		var ae *fly.ApiError
		if ctx.Err() == nil && errors.As(err, &ae) {
			return nil, &Error{Kind: kindForStatus(ae.Status, ae.Message), Op: "read logs of", App: app,
				MachineID: opts.Instance, Status: ae.Status, Message: Redact(ae.Message), Err: RedactError(err)}
		}
		return nil, finish(ctx, err, "read logs of", app, opts.Instance)
	}
	page := &LogPage{NextToken: token, Entries: make([]LogEntry, 0, len(entries))}
	if page.NextToken == "" {
		page.NextToken = opts.Token
	}
	for _, e := range entries {
		at, _ := time.Parse(time.RFC3339Nano, e.Timestamp)
		instance, region := e.Instance, e.Region
		if instance == "" {
			instance = e.Meta.Instance
		}
		if region == "" {
			region = e.Meta.Region
		}
		page.Entries = append(page.Entries, LogEntry{Time: at, Instance: instance, Region: region,
			Level: e.Level, Provider: e.Meta.Event.Provider, Message: e.Message})
	}
	return page, nil
}

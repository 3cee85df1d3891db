package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/flyrescue/flyrescue/config"
	"github.com/flyrescue/flyrescue/flyclient"
)

// Exit codes, documented in the README.
const (
	exitUsage        = 2  // bad flags or arguments
	exitAuth         = 3  // no token, or the API refused it
	exitNotFound     = 4  // unknown app, machine or release
	exitUnreachable  = 5  // the API did not answer
	exitRateLimited  = 6  // rate limited for too long
	exitNothingToDo  = 7  // the selection matched nothing, or nothing to undo or resume
	exitJournal      = 8  // the journal cannot be read or written
	exitActionFailed = 9  // an action ran and some machines failed
	exitRefused      = 10 // confirmation refused or impossible
)

// connection holds the flags every command that talks to Fly shares, named
// as flyctl names them.
type connection struct {
	app            string
	configPath     string
	accessToken    string
	requestTimeout time.Duration
}

// requestTimeoutEnv sets the deadline of each API call (like --request-timeout).
const requestTimeoutEnv = "FLYRESCUE_REQUEST_TIMEOUT"

func (c *connection) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&c.app, "app", "a", "", "Fly app name (default: FLY_APP, then app in fly.toml)")
	f.StringVarP(&c.configPath, "config", "c", "", "Path to the app's fly.toml (for its app name)")
	f.StringVarP(&c.accessToken, "access-token", "t", "", "Fly API access token (default: FLY_ACCESS_TOKEN, FLY_API_TOKEN, then ~/.fly/config.yml)")
	// Hidden: for tests and odd networks; FLYRESCUE_REQUEST_TIMEOUT does the same.
	f.DurationVar(&c.requestTimeout, "request-timeout", 0, "How long one API call may take to answer completely (default: "+requestTimeoutEnv+", else 30s)")
	_ = f.MarkHidden("request-timeout")
}

// timeout is the per-request deadline: the flag, else the environment,
// else flyclient's default.
func (c *connection) timeout() (time.Duration, error) {
	d, from := c.requestTimeout, "--request-timeout"
	if d == 0 {
		if env := os.Getenv(requestTimeoutEnv); env != "" {
			from = requestTimeoutEnv
			var err error
			if d, err = time.ParseDuration(env); err != nil {
				return 0, fmt.Errorf("%s=%q is not a duration: write it like 30s or 2m", requestTimeoutEnv, env)
			}
		}
	}
	switch {
	case d == 0:
		return flyclient.DefaultRequestTimeout, nil
	case d < 100*time.Millisecond || d > 10*time.Minute:
		return 0, fmt.Errorf("%s %s is out of range: give a duration from 100ms to 10m, like 30s", from, d)
	}
	return d, nil
}

// connect resolves the app and token and builds a client. It does not call
// the network.
func (c *connection) connect(ctx context.Context) (*flyclient.Client, string, error) {
	app, appErr := config.App(c.app, c.configPath, os.Getenv)
	token, _, tokErr := config.Token(c.accessToken, os.Getenv)
	switch {
	case appErr != nil && tokErr != nil && errors.Is(appErr, config.ErrNoApp):
		return nil, "", &exitError{exitAuth, errors.New("no Fly API token and no app: log in with `fly auth login` (or set FLY_API_TOKEN) and name the app with -a/--app or FLY_APP; `flyrescue demo` works with neither")}
	case appErr != nil:
		return nil, "", &exitError{exitUsage, appErr}
	case tokErr != nil:
		return nil, "", &exitError{exitAuth, tokErr}
	}
	timeout, err := c.timeout()
	if err != nil {
		return nil, "", &exitError{exitUsage, err}
	}
	client, err := flyclient.New(ctx, flyclient.Config{Token: token, UserAgent: "flyrescue/" + version, RequestTimeout: timeout})
	switch {
	case errors.Is(err, flyclient.ErrUnauthorized):
		return nil, "", &exitError{exitAuth, err}
	case err != nil:
		return nil, "", &exitError{exitUsage, err}
	}
	return client, app, nil
}

// apiExit gives an API error its documented exit code.
func apiExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	switch {
	case errors.Is(err, flyclient.ErrUnauthorized):
		return &exitError{exitAuth, err}
	case errors.Is(err, flyclient.ErrNotFound):
		return &exitError{exitNotFound, err}
	case errors.Is(err, flyclient.ErrUnreachable), errors.Is(err, flyclient.ErrServer), errors.Is(err, flyclient.ErrTimeout):
		return &exitError{exitUnreachable, err}
	case errors.Is(err, flyclient.ErrRateLimited):
		return &exitError{exitRateLimited, err}
	case errors.Is(err, flyclient.ErrInvalid):
		// The API refused the request as malformed (400, 422): retrying the
		// same command cannot help, the arguments it was built from (app,
		// image, region, machine ID) must change. Scripts read 2 that way.
		return &exitError{exitUsage, err}
	}
	return err
}

package flysim

import (
	"encoding/json"
	"strings"
	"testing"
)

// The answer carries exactly the fields asked for, under their aliases,
// through fragments, with arguments from variables and literals.
func TestGraphQLSelectionsAliasesFragments(t *testing.T) {
	e := newEnv(t, Options{Scenario: "minority", Machines: 5, NoRateLimit: true})
	const q = `
	# a comment, then an operation with variables
	query Both($name: String!, $limit: Int) {
		first: app(name: $name) {
			...Ids
			rels: releasesUnprocessed(first: $limit, status: "complete") {
				nodes { version ... on Release { imageRef } __typename }
			}
		}
		second: app(name: "demo-app") { name }
	}
	fragment Ids on App { id org: organization { slug } }
	`
	var got map[string]map[string]any
	if errs := genqlient(t, e, q, "Both", map[string]any{"name": e.app, "limit": 2}, &got); len(errs) > 0 {
		t.Fatal(errs)
	}
	b, _ := json.Marshal(got)
	const want = `{"first":{"id":"demo-app","org":{"slug":"demo-org"},"rels":{"nodes":[` +
		`{"__typename":"","imageRef":"registry.fly.io/demo-app:demo-app.v61-2-g2ffbdd93","version":61},` +
		`{"__typename":"","imageRef":"registry.fly.io/demo-app:demo-app.v60-4-g64e79b2c","version":60}]}},` +
		`"second":{"name":"demo-app"}}`
	if string(b) != want {
		t.Fatalf("answer\n%s\nwant\n%s", b, want)
	}
}

func TestGraphQLRefusesWhatItDoesNotKnow(t *testing.T) {
	e := newEnv(t, Options{Scenario: "healthy", Machines: 2, NoRateLimit: true})
	for q, want := range map[string]string{
		`{ viewer { email } }`:                  `Cannot query field "viewer"`,
		`query { app(name: "demo-app" { id } }`: "Syntax Error",
		`{ app(name: "other") { id } }`:         `Could not find App "other"`,
		`fragment F on App { id }`:              "Syntax Error: no operation",
		`mutation($input: ValidateWireGuardPeersInput!) { validateWireGuardPeers(input: $input) { invalidPeerIps } }`: `Cannot query field "validateWireGuardPeers" on type "Mutation"`,
	} {
		var out any
		errs := genqlient(t, e, q, "", nil, &out)
		if len(errs) != 1 || !strings.Contains(errs[0].Message, want) {
			t.Errorf("%s: %+v, want %q", q, errs, want)
		}
	}
}

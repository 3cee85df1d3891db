package model

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func filterFleet() *Snapshot {
	return snap([]Machine{
		mach("m01", "web", imgV62),
		mach("m02", "web", imgV61, inRegion("syd")),
		mach("m03", "worker", imgV62, inState(StateFailed, time.Minute), withChecks(critical)),
		mach("m04", "worker_autoscale", imgV61, inState(StateReplacing, time.Hour), inRegion("syd")),
		mach("m05", "worker_autoscale", imgV61, inState(StateReplacing, time.Minute), withChecks(Checks{Total: 1, Warning: 1})),
		mach("m06", "worker_autoscale", imgV60, inState(StateFailed, time.Minute), inRegion("ams"), withChecks(Checks{})),
	}, testReleases)
}

func TestFilterMatches(t *testing.T) {
	s := filterFleet()
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"m01", "m02", "m03", "m04", "m05", "m06"}},
		{"group:worker_autoscale", []string{"m04", "m05", "m06"}},
		{"GROUP:Worker", []string{"m03"}},
		{"group:worker_autoscale state:failed -region:syd", []string{"m06"}},
		{"state:failed,replacing", []string{"m03", "m04", "m05", "m06"}},
		{"state:stuck", []string{"m03", "m04", "m06"}},
		{"stuck", []string{"m03", "m04", "m06"}},
		{"-stuck", []string{"m01", "m02", "m05"}},
		{"state:replacing", []string{"m04", "m05"}}, // API state still finds the stuck one
		{"region:syd,ams", []string{"m02", "m04", "m06"}},
		{"-region:syd -region:ams", []string{"m01", "m03", "m05"}},
		{"image:new", []string{"m01", "m03"}},
		{"image:target", []string{"m01", "m03"}},
		{"image:old", []string{"m02", "m04", "m05", "m06"}},
		{"image:v60", []string{"m06"}},
		{`image:"app.v61"`, []string{"m02", "m04", "m05"}},
		{"-image:new group:web", []string{"m02"}},
		{"checks:critical", []string{"m03"}},
		{"checks:warning,none", []string{"m05", "m06"}},
		{"checks:passing", []string{"m01", "m02", "m04"}},
		{"-checks:passing", []string{"m03", "m05", "m06"}},
		{"-m0", []string{}},
		{"-syd", []string{"m01", "m03", "m05", "m06"}},
		{"syd autoscale", []string{"m04"}},
		{"ams fld", []string{"m06"}},
		{`'autoscale iad' -syd`, []string{"m05"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			f, err := ParseFilter(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got := ids(s, f.Apply(s))
			equalStrings(t, "Apply", got, tc.want)
			for i := range s.Machines {
				inApply := strings.Contains(" "+strings.Join(got, " ")+" ", " "+s.Machines[i].ID+" ")
				if f.Match(s, i) != inApply {
					t.Errorf("Match(%s) = %v, Apply says %v", s.Machines[i].ID, !inApply, inApply)
				}
			}
		})
	}
}

func TestFilterFuzzyRanking(t *testing.T) {
	s := snap([]Machine{
		mach("aaa", "xwxexbx", imgV62), // "web" scattered: weak match
		mach("bbb", "web", imgV62),     // "web" as a whole word: strong match
		mach("ccc", "db", imgV62),      // no match
	}, nil)
	f, err := ParseFilter("web")
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "ranked", ids(s, f.Apply(s)), []string{"bbb", "aaa"})
	if !f.HasText() {
		t.Error("HasText = false")
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"grp:web", `unknown qualifier "grp:" (use group:, state:, region:, image:, checks:, stuck)`},
		{"state:", "empty value in state:"},
		{"state:failed,", "empty value in state:"},
		{"region:,syd", "empty value in region:"},
		{`group:""`, "empty value in group:"},
		{"checks:purple", `unknown check status "purple"`},
		{"state:faild", `unknown state "faild"`},
		{"stuck:yes", "stuck takes no value"},
		{":web", `":" without a qualifier`},
		{"-", "negates nothing"},
		{`group:"web`, "unclosed \" quote at column 7"},
		{`""`, "empty quotes"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			f, err := ParseFilter(tc.query)
			if err == nil {
				t.Fatalf("parsed to %q, want error", f.String())
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestFilterString(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"", ""},
		{"  Group:Web   STATE:Failed,Replacing -Region:SYD stuck -stuck", "group:web state:failed,replacing -region:syd stuck -stuck"},
		{`"stuck" image:"a b",'c,d' -"-x" a:b`, ""},
		{`"a:b" "x\"y"`, `"a:b" "x\"y"`},
	} {
		f, err := ParseFilter(tc.query)
		if err != nil {
			if tc.want == "" {
				continue // the a:b case is an unknown qualifier on purpose
			}
			t.Fatalf("%q: %v", tc.query, err)
		}
		if got := f.String(); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.query, got, tc.want)
		}
		roundTrip(t, tc.query)
	}
	if f, _ := ParseFilter(""); !f.Empty() {
		t.Error("empty query is not Empty")
	}
	var nilFilter *Filter
	if !nilFilter.Empty() || nilFilter.String() != "" || !nilFilter.Match(filterFleet(), 0) {
		t.Error("nil filter should match everything")
	}
}

// roundTrip checks that a parsed query's String parses back to the same filter.
func roundTrip(t *testing.T, query string) {
	t.Helper()
	f, err := ParseFilter(query)
	if err != nil {
		return
	}
	g, err := ParseFilter(f.String())
	if err != nil {
		t.Fatalf("ParseFilter(%q) ok, but its String %q fails: %v", query, f.String(), err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Fatalf("ParseFilter(%q) = %#v, String %q re-parses to %#v", query, f, f.String(), g)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"", "web", "group:worker_autoscale state:failed -region:syd", "state:failed,replacing",
		`image:"app v62",'x,y'`, `-"-x"`, `"stuck" stuck -stuck`, `a"b c"d:e`, "grp:x", "checks:purple",
		`"unclosed`, "-", "\u00a0Ǆ\t", "\xff",
	} {
		f.Add(seed)
	}
	s := filterFleet()
	f.Fuzz(func(t *testing.T, query string) {
		roundTrip(t, query)
		if flt, err := ParseFilter(query); err == nil {
			flt.Apply(s)
		}
	})
}

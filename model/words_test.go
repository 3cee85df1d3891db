package model

import "testing"

func TestCountedAgrees(t *testing.T) {
	cases := map[string]string{
		Counted(0, "machine"):       "0 machines",
		Counted(1, "machine"):       "1 machine",
		Counted(2, "machine"):       "2 machines",
		Counted(1, "process group"): "1 process group",
		Counted(3, "process group"): "3 process groups",
		Counted(2, "lease"):         "2 leases",
		Counted(2, "retry"):         "2 retries",
		Counted(2, "day"):           "2 days",
		Counted(2, "process"):       "2 processes",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestNearestSuggestsTyposOnly(t *testing.T) {
	groups := []string{"app", "web", "worker", "worker_autoscale"}
	cases := []struct {
		word, want string
		ok         bool
	}{
		{"wrker", "worker", true},
		{"wokrer", "worker", true}, // a swap is one edit
		{"WORKER", "worker", true},
		{"worker_autoscal", "worker_autoscale", true},
		{"wbe", "web", true},
		{"database", "", false},
		{"x", "", false},
	}
	for _, c := range cases {
		got, ok := Nearest(c.word, groups)
		if got != c.want || ok != c.ok {
			t.Errorf("Nearest(%q) = %q, %v; want %q, %v", c.word, got, ok, c.want, c.ok)
		}
	}
	if _, ok := Nearest("web", nil); ok {
		t.Error("no candidates must give no suggestion")
	}
}

func TestExitSummarySaysTheReasonFirst(t *testing.T) {
	cases := []struct {
		e    Exit
		want string
	}{
		{Exit{Code: 137, OOMKilled: true}, "exit 137 oom"},
		{Exit{Code: 1, RestartCount: 3}, "exit 1 ×3 restarts"},
		{Exit{Code: 1, RestartCount: 1}, "exit 1 ×1 restart"},
		{Exit{Code: 0, RequestedStop: true}, "exit 0 stop requested"},
	}
	for _, c := range cases {
		if got := c.e.Summary(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
}

func TestAdviceCountsAgree(t *testing.T) {
	if got := Agree(1, "is", "are") + Agree(2, "is", "are"); got != "isare" {
		t.Fatalf("Agree: %q", got)
	}
}

package recovery

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// A scale count past the bounds is refused by the planner itself, so the
// dashboard's scale form is covered as well as the command line, and it is
// refused at once, naming the limit, without planning a step.
func TestPlanScaleRefusesAbsurdCounts(t *testing.T) {
	r := newRig(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 30, NoRateLimit: true})
	e := r.engine(Options{})
	web := 0
	for _, m := range r.sim.Machines() {
		if m.Group == "web" && !m.Destroyed {
			web++
		}
	}
	if web == 0 {
		t.Fatal("the scenario has no web machines")
	}
	limit := ScaleUpLimit(web)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []struct {
		count int
		says  string
	}{
		{99_999_999, "limit of 10000 machines"},
		{MaxScaleCount + 1, "limit of 10000 machines"},
		{limit + 1, "at most " + strconv.Itoa(limit)},
	} {
		began := time.Now()
		p, err := e.PlanScale(ctx, ScaleRequest{Group: "web", Count: c.count})
		if err == nil || !strings.Contains(err.Error(), c.says) || p != nil {
			t.Fatalf("scale web to %d: plan %v, err %v", c.count, p != nil, err)
		}
		if took := time.Since(began); took > 10*time.Second {
			t.Fatalf("refusing %d took %s", c.count, took)
		}
	}
	p, err := e.PlanScale(ctx, ScaleRequest{Group: "web", Count: limit})
	if err != nil || len(p.Steps) != limit-web {
		t.Fatalf("scale web from %d to its limit %d: %v", web, limit, err)
	}
}

func TestScaleUpLimit(t *testing.T) {
	for current, want := range map[int]int{0: 100, 3: 100, 10: 100, 11: 110, 500: 5000, 999: 9990, 1000: 10000, 5000: 10000} {
		if got := ScaleUpLimit(current); got != want {
			t.Errorf("ScaleUpLimit(%d) = %d, want %d", current, got, want)
		}
	}
}

package recovery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// A group name with a typo is refused with the nearest real group, instead
// of a plan that scales a group nobody has.
func TestPlanScaleSuggestsTheNearestGroup(t *testing.T) {
	r := newRig(t, flysim.Options{App: "shop", Scenario: "healthy", Machines: 30, NoRateLimit: true})
	e := r.engine(Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []struct{ group, says string }{
		{"wrker", "did you mean worker?"},
		{"database", "give one of those"},
	} {
		p, err := e.PlanScale(ctx, ScaleRequest{Group: c.group, Count: 0})
		if err == nil || p != nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "groups: ") {
			t.Errorf("scale %s: plan %v, err %v", c.group, p != nil, err)
		}
	}
}

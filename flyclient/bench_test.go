package flyclient_test

import (
	"context"
	"testing"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// benchmarkSurvey measures one dashboard poll through the real client:
// list over loopback HTTP, decode and convert to the model.
func benchmarkSurvey(b *testing.B, machines int) {
	_, c := startSim(b, flysim.Options{App: "shop", Scenario: "majority", Machines: machines, NoRateLimit: true})
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		ms, err := c.List(ctx, "shop", flyclient.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(flyclient.ToModels(ms, "")) == 0 {
			b.Fatal("empty fleet")
		}
	}
}

func BenchmarkListAndConvert500(b *testing.B)  { benchmarkSurvey(b, 500) }
func BenchmarkListAndConvert5000(b *testing.B) { benchmarkSurvey(b, 5000) }

package flysim

import (
	"strconv"
	"strings"
)

// What flyctl's deploy, scale and status read through GraphQL beyond
// fly-go's release queries: the app config a release deploys
// (configDefinition) and image resolution (app.image).

// releaseCommand is the runbook's release command: it quiets every Sidekiq
// process before machines are updated.
const releaseCommand = "bin/rake sidekiq:quiet"

// processCommands are the app's [processes], as the scenario's machines run
// them (initByGroup).
var processCommands = map[string]string{
	"web":              "bin/rails server",
	"worker":           "bundle exec sidekiq",
	"worker_autoscale": "bundle exec sidekiq -q autoscale",
}

// definitionOf is release r's app config, fly.toml as JSON the way the API
// keeps it: what flyctl sent when it created r, else the config the
// scenario's machines were deployed with (services, checks, restart policy
// and VM size match baseConfig, so a deploy of it changes only what the
// operator changes).
func (s *Sim) definitionOf(r *release) map[string]any {
	if r.definition != nil {
		return r.definition
	}
	groups := []any{"web", "worker", "worker_autoscale"}
	processes := map[string]any{}
	for g, cmd := range processCommands {
		processes[g] = cmd
	}
	return map[string]any{
		"app":            s.app,
		"primary_region": regions[0],
		"build":          map[string]any{"image": r.image},
		"env":            map[string]any{"RELEASE_LABEL": r.label},
		"processes":      processes,
		"deploy":         map[string]any{"release_command": releaseCommand},
		"services": []any{map[string]any{
			"protocol": "tcp", "internal_port": 8080, "processes": groups,
			"auto_stop_machines": "off", "auto_start_machines": true,
			"ports": []any{
				map[string]any{"port": 80, "handlers": []any{"http"}, "force_https": true},
				map[string]any{"port": 443, "handlers": []any{"tls", "http"}},
			},
			"concurrency": map[string]any{"type": "requests", "hard_limit": 250, "soft_limit": 200},
			"http_checks": []any{map[string]any{"interval": "15s", "timeout": "5s", "grace_period": "10s", "method": "GET", "path": "/health"}},
		}},
		"checks":  map[string]any{"alive": map[string]any{"type": "tcp", "port": 8080, "interval": "15s", "timeout": "10s", "processes": groups}},
		"restart": []any{map[string]any{"policy": "on-failure", "retries": 10, "processes": groups}},
		"vm":      []any{map[string]any{"size": "shared-cpu-2x", "memory": "2048", "processes": groups}},
	}
}

// imageObject answers app.image(ref:), which flyctl's deploy --image and
// machine update --image use to resolve an image before using it. The sim
// has no registry: every reference resolves, a release's image to that
// release's digest.
func (s *Sim) imageObject(ref string) map[string]any {
	if strings.TrimSpace(ref) == "" {
		return nil
	}
	image := baseImage(ref)
	digest := s.refForImage(ref).Digest
	size := 90_000_000 + int(hashHex(image, 8)[0])*1_000_000
	return map[string]any{
		"id": "img_" + hashHex(image, 16), "digest": digest, "ref": image,
		"compressedSize": strconv.Itoa(size), "compressedSizeFull": strconv.Itoa(size),
		"manifest": nil,
	}
}

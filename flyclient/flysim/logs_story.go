package flysim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The lines each machine event tells, worded as Fly's init, flyd, fly-proxy,
// Puma and Sidekiq word them, so that `fly logs -i ID` reads like the
// machine's history: boot, the release command quieting Sidekiq, the app
// starting, health checks failing, crash loops, OOM kills, stops.

// logger appends the lines of one event, a millisecond apart so they keep
// their order by time.
type logger struct {
	s  *Sim
	m  *machine
	at time.Time
}

func (l *logger) say(p logProvider, lvl logLevel, msg string) {
	l.s.addLogLocked(l.m, l.at, p, lvl, msg)
	l.at = l.at.Add(time.Millisecond)
}

func (l *logger) app(msg string)                        { l.say(fromApp, levelInfo, msg) }
func (l *logger) runner(lvl logLevel, msg string)       { l.say(fromRunner, lvl, msg) }
func (l *logger) appError(msg string)                   { l.say(fromApp, levelError, msg) }
func (l *logger) proxy(lvl logLevel, msg string)        { l.say(fromProxy, lvl, msg) }
func (s *Sim) storyOf(m *machine, at time.Time) *logger { return &logger{s: s, m: m, at: at} }

const releaseCommandGroup = "fly_app_release_command"

// logEventLocked tells the lines of one event of m.
func (s *Sim) logEventLocked(m *machine, at time.Time, typ, status string, exit *exitInfo) {
	if !s.keepLog(at) {
		return // nothing of it would be kept
	}
	l := s.storyOf(m, at)
	switch {
	case typ == "start" && status == stateStarted:
		l.boot()
		if m.isJob() {
			s.logJobLocked(l)
		}
	case typ == "update" && status == stateReplacing && m.prevState == stateStarted,
		typ == "stop" || typ == "restart":
		l.shutdown()
		if typ == "restart" {
			l.app(" INFO Main child exited normally with code: 0")
		}
	case typ == "update" && status == "reverted":
		l.runner(levelWarn, "failed to start the new version ("+m.prevCfg.Image+"), restored the previous one")
	case typ == "exit" && exit != nil:
		l.exited(*exit)
	case typ == "suspend":
		l.app(" INFO Suspending machine")
	}
}

// boot: flyd prepares the image when it changed, init starts the command,
// the app comes up.
func (l *logger) boot() {
	m := l.m
	if m.bootedImage != m.cfg.Image {
		m.bootedImage = m.cfg.Image
		l.runner(levelInfo, "Pulling container image "+m.cfg.Image)
		l.runner(levelInfo, "Successfully prepared image "+m.cfg.Image+" (2.31s)")
	}
	l.runner(levelInfo, "Configuring firecracker")
	l.app(" INFO Starting init (commit: 8c0f7e5)...")
	l.app(" INFO Preparing to run: `" + l.s.commandOf(m) + "` as root")
	l.app(" INFO [fly api proxy] listening at /.fly/api")
	l.runner(levelInfo, "Machine started in 1.284s")
	switch m.group() {
	case "web":
		l.app("=> Booting Puma")
		l.app("=> Rails 7.2.2 application starting in production")
		l.app("* Listening on http://0.0.0.0:8080")
	case "worker", AutoscaleGroup:
		l.app("Sidekiq 7.3.9 connecting to Redis with options {:size=>10, :pool_name=>\"internal\", :url=>\"redis://top2.nearest.of.demo-redis.internal:6379\"}")
		l.app("Booted Rails 7.2.2 application in production environment")
		l.app("Starting processing, hit Ctrl-C to stop")
	}
}

// commandOf is what init runs on m: its config's init.cmd (remembered
// per config, as a fleet shares a few).
func (s *Sim) commandOf(m *machine) string {
	b := &s.logs
	if cmd, ok := b.commands[string(m.cfg.Init)]; ok {
		return cmd
	}
	var init struct {
		Cmd []string `json:"cmd"`
	}
	if len(m.cfg.Init) > 0 {
		_ = json.Unmarshal(m.cfg.Init, &init)
	}
	cmd := strings.Join(init.Cmd, " ")
	if cmd == "" {
		cmd = "/docker-entrypoint.sh"
	}
	if b.commands == nil {
		b.commands = map[string]string{}
	}
	b.commands[string(m.cfg.Init)] = cmd
	return cmd
}

// shutdown: init signals the app, which winds down.
func (l *logger) shutdown() {
	l.app(" INFO Sending signal SIGINT to main child process w/ PID 313")
	switch l.m.group() {
	case "web":
		l.app("- Gracefully stopping, waiting for requests to finish")
		l.app("=== puma shutdown: " + l.at.UTC().Format("2006-01-02 15:04:05 -0700") + " ===")
		l.app("- Goodbye!")
	case "worker", AutoscaleGroup:
		l.app("Shutting down")
		l.app("Terminating quiet threads for default queue")
		l.app("Pausing to allow jobs to finish...")
		l.app("Bye!")
	}
}

// exited: how the main process ended, and what flyd does about it.
func (l *logger) exited(e exitInfo) {
	switch {
	case e.oom:
		l.say(fromApp, levelError, "[   31.402518] Out of memory: Killed process 313 (ruby) total-vm:2873104kB, anon-rss:2051236kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4616kB oom_score_adj:0")
		l.app(" INFO Process appears to have been OOM killed!")
		l.app(" INFO Main child exited with signal (with signal 'SIGKILL', core dumped? false)")
	case e.signal == 9:
		l.app(" INFO Main child exited with signal (with signal 'SIGKILL', core dumped? false)")
	case e.code != 0:
		l.appError("bundler: failed to load command: " + strings.Fields(l.s.commandOf(l.m) + " x")[0])
		l.appError("/app/config/initializers/rescue_client.rb:4:in `<main>': uninitialized constant RescueClient::Config (NameError)")
		l.app(" INFO Main child exited normally with code: " + strconv.Itoa(e.code))
	default:
		l.app(" INFO Main child exited normally with code: 0")
	}
	l.app(" INFO Starting clean up.")
	switch {
	case e.code == 0 || e.requestedStop:
		l.app("[    8.413912] reboot: Restarting system")
	case e.restarting:
		l.runner(levelWarn, fmt.Sprintf("machine exited with exit code %d, restarting (restart %d of %d)", e.code, e.restartCount+1, l.m.cfg.maxRestarts()))
	default:
		l.runner(levelError, fmt.Sprintf("machine has reached its max restart count of %d", l.m.cfg.maxRestarts()))
	}
}

// logJobLocked: the release command quiets every Sidekiq process, and each
// running worker says so.
func (s *Sim) logJobLocked(l *logger) {
	if cmd := s.commandOf(l.m); !strings.Contains(cmd, "sidekiq:quiet") {
		l.app("Running release command: " + cmd)
		return
	}
	var workers []*machine
	for _, id := range s.order {
		w := s.machines[id]
		if (w.group() == "worker" || w.group() == AutoscaleGroup) && w.state == stateStarted {
			workers = append(workers, w)
		}
	}
	l.app(fmt.Sprintf("Quieting %d Sidekiq processes (worker, %s)", len(workers), AutoscaleGroup))
	for _, w := range workers {
		s.storyOf(w, l.at).app("Received TSTP, no longer accepting new work")
	}
	l.app(fmt.Sprintf("Sent TSTP to %d processes; jobs resume as machines boot the new release", len(workers)))
}

// logChecksLocked tells the first result of m's health checks after a
// boot (fresh), and later changes.
func (s *Sim) logChecksLocked(m *machine, at time.Time, fresh, was bool) {
	if len(m.cfg.Services) == 0 && len(m.cfg.Checks) == 0 || !fresh && was == m.checksPassing {
		return
	}
	l := s.storyOf(m, at)
	if m.checksPassing {
		l.proxy(levelInfo, "Health check on port 8080 is now passing.")
		return
	}
	l.app("Started GET \"/health\" for 172.16.3.98")
	l.appError("Completed 500 Internal Server Error in 3ms (ActiveRecord: 0.0ms)")
	l.proxy(levelError, "Health check on port 8080 has failed. Your app is not responding properly. Services exposed on ports [80, 443] will have intermittent failures until the health check passes.")
}

// logScenarioLocked finishes the scenario's history: where the deploy got
// as far as its release command (every scenario but healthy and stuck), the
// workers still on the previous release were quieted and stay idle; every
// other healthy machine has been doing its work up to now. Then the lines
// are put in time order.
func (s *Sim) logScenarioLocked(deployAt, now time.Time) {
	quieted := s.opts.Scenario != "healthy" && s.opts.Scenario != "stuck"
	for _, id := range s.order {
		m := s.machines[id]
		worker := m.group() == "worker" || m.group() == AutoscaleGroup
		if quieted && worker && m.cfg.Image == s.previous.image {
			s.storyOf(m, deployAt.Add(20*time.Second)).app("Received TSTP, no longer accepting new work")
			continue
		}
		if m.state != stateStarted || !m.checksPassing {
			continue
		}
		l := s.storyOf(m, now.Add(-time.Duration(1+int(m.id[0])%50)*time.Second))
		if worker {
			l.app("class=ReportDeliveryJob jid=" + m.id[:12] + " INFO: done: 0.412 sec")
		} else {
			l.app(`method=GET path=/ format=html controller=HomeController action=index status=200 duration=4.12 view=0.84 db=1.10`)
		}
	}
	s.sortLogsLocked()
}

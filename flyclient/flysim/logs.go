package flysim

import (
	"cmp"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
)

// App logs: every machine's story as lines (see logs_story.go), served
// like GET /api/v1/apps/{app}/logs, the endpoint fly-go's GetAppLogs and
// `fly logs` poll: filtered by instance (machine ID) and region, paged
// forward with next_token. A first request without a token gets the newest
// page; each answer's next_token asks for what came after it, so a poller
// follows the machines as they change.

// logRetention: lines older than this (before the sim started) are not
// kept, as the logs endpoint keeps only recent lines.
const logRetention = time.Hour

// logPage is the most lines one answer carries.
const logPage = 100

type logLevel uint8

const (
	levelInfo logLevel = iota
	levelWarn
	levelError
)

var levelNames = [...]string{"info", "warn", "error"}

type logProvider uint8

const (
	fromApp    logProvider = iota // the machine's own output (init and the app)
	fromRunner                    // flyd, about the machine
	fromProxy                     // fly-proxy's health checks
)

var providerNames = [...]string{"app", "runner", "proxy"}

// logLine is one line; messages are mostly shared constants, so a fleet's
// history stays small.
type logLine struct {
	at       int64 // unix nanoseconds
	m        *machine
	msg      string
	level    logLevel
	provider logProvider
}

// logBook is the app's log: append-only, so an index is a stable position
// for next_token. The per-machine index is brought up to date when read.
type logBook struct {
	lines     []logLine
	byMachine map[*machine][]int32
	indexed   int               // lines[:indexed] are in byMachine
	commands  map[string]string // init config -> the command line it runs
}

// keepLog: lines older than the retention window are not kept.
func (s *Sim) keepLog(at time.Time) bool { return !at.Before(s.epoch.Add(-logRetention)) }

func (s *Sim) addLogLocked(m *machine, at time.Time, p logProvider, lvl logLevel, msg string) {
	if s.keepLog(at) {
		s.logs.lines = append(s.logs.lines, logLine{at: at.UnixNano(), m: m, msg: msg, level: lvl, provider: p})
	}
}

// machineLines are m's lines' positions, oldest first.
func (b *logBook) machineLines(m *machine) []int32 {
	if b.byMachine == nil {
		b.byMachine = map[*machine][]int32{}
	}
	for ; b.indexed < len(b.lines); b.indexed++ {
		l := b.lines[b.indexed].m
		b.byMachine[l] = append(b.byMachine[l], int32(b.indexed))
	}
	return b.byMachine[m]
}

// sortLogsLocked orders the scenario's history by time: buildScenario
// writes it machine by machine.
func (s *Sim) sortLogsLocked() {
	b := &s.logs
	// The lines of one event are a millisecond apart, so (time, machine)
	// orders them without a stable sort.
	slices.SortFunc(b.lines, func(x, y logLine) int {
		return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.m.id, y.m.id))
	})
	b.byMachine, b.indexed = nil, 0
}

// LogLine is one app log line, as the logs endpoint reports it.
type LogLine struct {
	Timestamp                                  time.Time
	Instance, Region, Level, Provider, Message string
}

func (l logLine) view() LogLine {
	return LogLine{Timestamp: time.Unix(0, l.at).UTC(), Instance: l.m.id, Region: l.m.region,
		Level: levelNames[l.level], Provider: providerNames[l.provider], Message: l.msg}
}

// Logs returns machineID's log lines, oldest first ("" for the whole app).
func (s *Sim) Logs(machineID string) []LogLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	page, _ := s.logPageLocked(logQuery{instance: machineID, from: 0, limit: -1})
	out := make([]LogLine, 0, len(page))
	for _, l := range page {
		out = append(out, l.view())
	}
	return out
}

type logQuery struct {
	instance, region string
	from             int // first index to look at; -1: the newest page
	limit            int // -1: no limit
}

func (q logQuery) match(l *logLine) bool {
	return (q.instance == "" || l.m.id == q.instance) && (q.region == "" || l.m.region == q.region)
}

// logPageLocked answers q with the matching lines in log order and the
// position to continue from.
func (s *Sim) logPageLocked(q logQuery) ([]logLine, int) {
	b := &s.logs
	// An instance filter walks that machine's lines only.
	var idx []int32
	if q.instance != "" {
		m := s.machines[q.instance]
		if m == nil {
			return nil, len(b.lines)
		}
		idx = b.machineLines(m)
	}
	at := func(k int) *logLine {
		if idx != nil {
			return &b.lines[idx[k]]
		}
		return &b.lines[k]
	}
	n := len(b.lines)
	if idx != nil {
		n = len(idx)
	}
	pos := func(k int) int { // position in the whole book after item k
		if idx != nil {
			return int(idx[k]) + 1
		}
		return k + 1
	}
	start := 0
	if q.from < 0 {
		// The newest page: walk back until it is full.
		found := 0
		start = n
		for start > 0 && found < q.limit {
			start--
			if q.match(at(start)) {
				found++
			}
		}
	} else if idx != nil {
		start = sort.Search(len(idx), func(k int) bool { return int(idx[k]) >= q.from })
	} else {
		start = min(q.from, n)
	}
	var out []logLine
	for k := start; k < n; k++ {
		l := at(k)
		if !q.match(l) {
			continue
		}
		out = append(out, *l)
		if q.limit >= 0 && len(out) == q.limit {
			return out, pos(k)
		}
	}
	return out, len(b.lines)
}

// handleLogs serves GET /api/v1/apps/{app}/logs?next_token=&instance=&region=
// in the shape fly-go's GetAppLogs decodes: {"data":[{"id","type",
// "attributes":{timestamp, message, level, instance, region, meta}}],
// "meta":{"next_token"}}.
func (s *Sim) handleLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := logQuery{instance: q.Get("instance"), region: q.Get("region"), from: -1, limit: logPage}
	if tok := q.Get("next_token"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "invalid next_token")
			return
		}
		lq.from = n
	}
	s.mu.Lock()
	s.advanceLocked()
	page, next := s.logPageLocked(lq)
	data := make([]any, 0, len(page))
	for _, l := range page {
		v := l.view()
		data = append(data, map[string]any{
			"id": strconv.FormatInt(l.at, 36) + "-" + v.Instance, "type": "logs",
			"attributes": map[string]any{
				"timestamp": v.Timestamp.Format(time.RFC3339Nano), "message": v.Message, "level": v.Level,
				"instance": v.Instance, "region": v.Region,
				"meta": map[string]any{"instance": v.Instance, "region": v.Region, "event": map[string]any{"provider": v.Provider}},
			},
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "meta": map[string]any{"next_token": strconv.Itoa(next)}})
}

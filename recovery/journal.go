package recovery

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flyrescue/flyrescue/flyclient"
)

// Record types in the journal.
const (
	RecordAction  = "action"
	RecordIntent  = "intent"
	RecordOutcome = "outcome"
)

// Record is one line of the journal.
type Record struct {
	Type    string         `json:"type"`
	At      time.Time      `json:"at"`
	Action  *ActionRecord  `json:"action,omitempty"`
	Intent  *IntentRecord  `json:"intent,omitempty"`
	Outcome *OutcomeRecord `json:"outcome,omitempty"`
}

// ActionRecord is written once, before any machine is touched.
type ActionRecord struct {
	ID           string                    `json:"id"`
	Kind         Kind                      `json:"kind"`
	App          string                    `json:"app"`
	Selection    string                    `json:"selection,omitempty"`
	Args         map[string]string         `json:"args,omitempty"`
	Operator     string                    `json:"operator"`
	Undoes       string                    `json:"undoes,omitempty"`
	Resumes      string                    `json:"resumes,omitempty"`
	Steps        []Step                    `json:"steps"`
	GroupCounts  map[string]int            `json:"group_counts,omitempty"`
	RegionCounts map[string]map[string]int `json:"region_counts,omitempty"`
	Notes        []string                  `json:"notes,omitempty"`
	// Held are machines the selection matched that someone else held a
	// long lease on: left out, with the holder in Reason.
	Held []Step `json:"held,omitempty"`
}

// IntentRecord is written and fsynced before the first mutating call on a
// machine. It holds everything needed to undo the step or to tell, after a
// crash, whether it happened.
type IntentRecord struct {
	ActionID       string                   `json:"action_id"`
	Seq            int                      `json:"seq"`
	MachineID      string                   `json:"machine_id,omitempty"`
	Name           string                   `json:"name,omitempty"`
	Op             Op                       `json:"op"`
	Region         string                   `json:"region,omitempty"`
	Group          string                   `json:"group,omitempty"`
	ConfigBefore   *flyclient.MachineConfig `json:"config_before,omitempty"`
	ImageBefore    string                   `json:"image_before,omitempty"`
	InstanceBefore string                   `json:"instance_before,omitempty"`
	StateBefore    string                   `json:"state_before,omitempty"`
	ToImage        string                   `json:"to_image,omitempty"`
	ToState        string                   `json:"to_state,omitempty"`
	// LaunchTag marks a machine we launch (metadata flyrescue_intent) so a
	// resume can find it even if we died before learning its ID.
	LaunchTag string `json:"launch_tag,omitempty"`
}

// OutcomeRecord is written when a step ends.
type OutcomeRecord struct {
	ActionID      string  `json:"action_id"`
	Seq           int     `json:"seq"`
	MachineID     string  `json:"machine_id,omitempty"`
	NewMachineID  string  `json:"new_machine_id,omitempty"`
	Outcome       Outcome `json:"outcome"`
	Attempts      int     `json:"attempts"`
	Error         string  `json:"error,omitempty"`
	StateAfter    string  `json:"state_after,omitempty"`
	ImageAfter    string  `json:"image_after,omitempty"`
	InstanceAfter string  `json:"instance_after,omitempty"`
	// Reconciled marks an outcome decided by resume from live state.
	Reconciled bool `json:"reconciled,omitempty"`
}

// ErrJournal wraps every failure to write the journal: no mutating action
// runs when it cannot be recorded.
var ErrJournal = errors.New("journal not writable")

// Journal is an app's append-only JSON Lines action log.
type Journal struct {
	path string
	mu   sync.Mutex
	f    *os.File
	// TornTail describes a torn last line found (and cut) when opening:
	// the trace of a crash mid-write. Empty when the file was whole.
	TornTail string

	cache journalCache
}

// journalCache keeps the last read of the file while its size and
// modification time stay the same (see HistoryCached).
type journalCache struct {
	mu      sync.Mutex
	size    int64
	modTime time.Time
	hist    []*ActionLog
}

// DefaultJournalDir is $FLYRESCUE_STATE_DIR, else $XDG_STATE_HOME/flyrescue,
// else ~/.local/state/flyrescue.
func DefaultJournalDir() string {
	if d := os.Getenv("FLYRESCUE_STATE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "flyrescue")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "flyrescue-state")
	}
	return filepath.Join(home, ".local", "state", "flyrescue")
}

// JournalPath is where app's journal lives in dir ("" = DefaultJournalDir).
// An app name that is not a valid Fly app name is refused, so no name can
// place a journal outside the state directory.
func JournalPath(dir, app string) (string, error) {
	if err := checkAppName(app); err != nil {
		return "", err
	}
	if dir == "" {
		dir = DefaultJournalDir()
	}
	return filepath.Join(dir, app+".jsonl"), nil
}

// maxAppNameLen is a DNS label's limit: an app is reached at <app>.fly.dev.
const maxAppNameLen = 63

// checkAppName accepts what Fly accepts as an app name: lowercase letters,
// digits and dashes, not starting with a dash. The CLI checks names too;
// this is the last line before the name becomes part of a file path.
func checkAppName(app string) error {
	if app == "" {
		return fmt.Errorf("%w: no app name", ErrJournal)
	}
	ok := len(app) <= maxAppNameLen && app[0] != '-'
	for i := 0; ok && i < len(app); i++ {
		c := app[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%w: %q is not a Fly app name (lowercase letters, digits and dashes, at most %d): no journal is opened for it", ErrJournal, app, maxAppNameLen)
	}
	return nil
}

// OpenJournal opens (creating) app's journal for appending. A torn last
// line is cut off so the next record starts on a line of its own, and
// reported in TornTail.
func OpenJournal(dir, app string) (*Journal, error) {
	path, err := JournalPath(dir, app)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	j := &Journal{path: path, f: f}
	if err := j.cutTornTail(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrJournal, path, err)
	}
	return j, nil
}

func (j *Journal) cutTornTail() error {
	data, err := io.ReadAll(j.f)
	if err != nil {
		return err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		keep := bytes.LastIndexByte(data, '\n') + 1
		j.TornTail = fmt.Sprintf("%s: last line (%d bytes) was torn by a crash and has been dropped", j.path, len(data)-keep)
		if err := j.f.Truncate(int64(keep)); err != nil {
			return err
		}
	}
	_, err = j.f.Seek(0, io.SeekEnd)
	return err
}

// Path is the journal file.
func (j *Journal) Path() string { return j.path }

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.f.Close()
}

// Append writes one record as one line and fsyncs it before returning, so a
// record the caller has seen succeed survives a crash. The line is redacted
// first: a token echoed into an error must not live on in the journal.
func (j *Journal) Append(r Record) error {
	line, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if err := j.write(line, nil); err != nil {
		return err
	}
	// Sync outside the lock: concurrent appenders share the disk flush.
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJournal, j.path, err)
	}
	return nil
}

// AppendGuarded appends r only if guard (given the journal's history as it
// is on disk, read under the file lock) allows it, so two processes cannot
// both record, e.g., an undo of one action: the check and the write happen
// under one exclusive flock. guard's error is returned as it is, and
// nothing is written. A nil guard is a plain Append.
func (j *Journal) AppendGuarded(r Record, guard func(hist []*ActionLog) error) error {
	if guard == nil {
		return j.Append(r)
	}
	line, err := encodeRecord(r)
	if err != nil {
		return err
	}
	return j.write(line, guard)
}

// encodeRecord is r as one redacted JSON line.
func encodeRecord(r Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Unescaped <, >, &: a secret must appear in the line as it is known to
	// Redact, not as \u003c...
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		var me *json.MarshalerError
		if errors.As(err, &me) {
			err = me.Unwrap() // our own message, without encoding/json's wrapper
		}
		return nil, fmt.Errorf("%w: the %s record does not encode (a bug in flyrescue; please report it): %v", ErrJournal, r.Type, err)
	}
	line := []byte(flyclient.Redact(string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))))
	if !json.Valid(line) {
		// Redaction cut through the JSON: write nothing rather than a line
		// that would make the whole journal unreadable.
		return nil, fmt.Errorf("%w: record of type %s is not valid JSON after redaction", ErrJournal, r.Type)
	}
	return append(line, '\n'), nil
}

// write appends line under the process mutex and an exclusive flock on the
// file (which keeps two flyrescue processes from interleaving lines), after
// guard, if any, has approved the history read under that lock.
func (j *Journal) write(line []byte, guard func(hist []*ActionLog) error) (err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := lockFile(j.f); err != nil {
		return fmt.Errorf("%w: %s: locking: %v", ErrJournal, j.path, err)
	}
	defer func() {
		if uerr := unlockFile(j.f); uerr != nil && err == nil {
			err = fmt.Errorf("%w: %s: unlocking: %v", ErrJournal, j.path, uerr)
		}
	}()
	// Another process may have died mid-line since we opened the file; a
	// record written after its torn bytes would corrupt both lines.
	data, err := j.tailLocked(guard != nil)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJournal, j.path, err)
	}
	if guard != nil {
		recs, _, err := readRecords(bytes.NewReader(data), j.path)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrJournal, err)
		}
		if err := guard(History(recs)); err != nil {
			return err
		}
	}
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJournal, j.path, err)
	}
	if guard != nil {
		// Durable before the lock is released: the next process's guard
		// must never see a record a crash could still take back.
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrJournal, j.path, err)
		}
	}
	return nil
}

// tailLocked cuts a torn last line, left by a process that died mid-write
// since we opened the file (the caller holds the flock). With whole it
// returns the file's (whole-lined) content.
func (j *Journal) tailLocked(whole bool) ([]byte, error) {
	fi, err := j.f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil, err
	}
	size := fi.Size()
	last := make([]byte, 1)
	if _, err := j.f.ReadAt(last, size-1); err != nil {
		return nil, err
	}
	torn := last[0] != '\n'
	if !whole && !torn {
		return nil, nil
	}
	data := make([]byte, size)
	if _, err := j.f.ReadAt(data, 0); err != nil {
		return nil, err
	}
	if torn {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
		if err := j.f.Truncate(int64(len(data))); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// Records reads the whole journal (see ReadJournal).
func (j *Journal) Records() ([]Record, string, error) { return ReadJournal(j.path) }

// HistoryCached is History of the journal, read again only when the file
// changed (size or modification time): a dashboard that polls every 2 s
// does not re-read a long journal that nobody wrote to. The result is
// shared: callers must not change it.
func (j *Journal) HistoryCached() ([]*ActionLog, error) {
	fi, err := os.Stat(j.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &j.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hist != nil && fi.Size() == c.size && fi.ModTime().Equal(c.modTime) {
		return c.hist, nil
	}
	recs, _, err := ReadJournal(j.path)
	if err != nil {
		return nil, err
	}
	c.hist, c.size, c.modTime = History(recs), fi.Size(), fi.ModTime()
	return c.hist, nil
}

// ReadJournal reads a journal file. A missing file is an empty journal. A
// torn last line is tolerated and described in the returned warning; any
// other unreadable line is an error naming the file and line.
func ReadJournal(path string) ([]Record, string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	return readRecords(f, path)
}

// readRecords parses journal lines from r; path names it in errors.
func readRecords(r io.Reader, path string) ([]Record, string, error) {
	var recs []Record
	var warning string
	rd := bufio.NewReaderSize(r, 1<<20)
	for lineNo := 1; ; lineNo++ {
		line, err := rd.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, "", fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		torn := err == io.EOF // no newline: the last line, cut short by a crash
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		uerr := decodeLine(line, &r)
		if errors.Is(uerr, ErrJournalTooNew) {
			// Whole and well-formed, torn or not: not ours to read.
			return nil, "", fmt.Errorf("%s:%d: %w", path, lineNo, uerr)
		}
		if uerr != nil || r.Type == "" {
			if torn {
				warning = fmt.Sprintf("%s:%d: last line is torn (a crash mid-write) and was ignored", path, lineNo)
				break
			}
			if uerr == nil {
				uerr = errors.New("record without type")
			}
			return nil, "", fmt.Errorf("%s:%d: corrupt journal line: %v", path, lineNo, uerr)
		}
		recs = append(recs, r)
		if torn {
			break
		}
	}
	return recs, warning, nil
}

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
	"syscall"
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
func JournalPath(dir, app string) string {
	if dir == "" {
		dir = DefaultJournalDir()
	}
	return filepath.Join(dir, app+".jsonl")
}

// OpenJournal opens (creating) app's journal for appending. A torn last
// line is cut off so the next record starts on a line of its own, and
// reported in TornTail.
func OpenJournal(dir, app string) (*Journal, error) {
	if app == "" {
		return nil, fmt.Errorf("%w: no app name", ErrJournal)
	}
	path := JournalPath(dir, app)
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
// record the caller has seen succeed survives a crash.
func (j *Journal) Append(r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("%w: encoding record: %v", ErrJournal, err)
	}
	line = append(line, '\n')
	j.mu.Lock()
	// flock keeps two flyrescue processes from interleaving lines.
	fd := int(j.f.Fd())
	_ = syscall.Flock(fd, syscall.LOCK_EX)
	_, err = j.f.Write(line)
	_ = syscall.Flock(fd, syscall.LOCK_UN)
	j.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJournal, j.path, err)
	}
	// Sync outside the lock: concurrent appenders share the disk flush.
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrJournal, j.path, err)
	}
	return nil
}

// AppendGuarded appends r only if guard (given the journal's history as it
// is on disk, read under the file lock) allows it, so two processes cannot
// both record, e.g., an undo of one action. A nil guard is a plain Append.
// TODO(helper): lock, re-read, check, append.
func (j *Journal) AppendGuarded(r Record, guard func(hist []*ActionLog) error) error {
	if guard != nil {
		recs, _, err := j.Records()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrJournal, err)
		}
		if err := guard(History(recs)); err != nil {
			return err
		}
	}
	return j.Append(r)
}

// Records reads the whole journal (see ReadJournal).
func (j *Journal) Records() ([]Record, string, error) { return ReadJournal(j.path) }

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
	var recs []Record
	var warning string
	rd := bufio.NewReaderSize(f, 1<<20)
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
		if uerr := json.Unmarshal(line, &r); uerr != nil || r.Type == "" {
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

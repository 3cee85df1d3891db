package recovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// The journal's on-disk format is ours, not fly-go's: steps have snake_case
// names of their own and machine configs are kept as the JSON they were
// read as, so neither a fly-go upgrade nor a renamed Go field changes what
// the file says. In memory the records are the engine's types (Step with a
// *flyclient.MachineConfig); the conversion happens here and only here, in
// the JSON methods of ActionRecord and IntentRecord.
//
// Schemas (the "schema" of each action record):
//
//	0  (no "schema") steps with Go field names ("MachineID"), configs as
//	   fly-go v0.9.3 encoded them. Written before the format was ours.
//	1  steps with snake_case names ("machine_id"), configs as raw JSON.
//
// Intent and outcome records have kept one shape: they are read under the
// schema of their action, and a run always writes its action record first,
// so a journal touched by a newer flyrescue holds a newer action record.

// JournalSchema is the schema this flyrescue writes and the newest it reads.
const JournalSchema = 1

// ErrJournalTooNew is a journal holding records of a schema newer than
// JournalSchema: read with this flyrescue, they would be misread.
var ErrJournalTooNew = errors.New("written by a newer flyrescue")

// stepV1 is a Step on disk in schema 1. Each Step field is paired with
// its own here in stepFields: a field added to Step must be added to both
// (TestJournalKeepsEveryStepField fails until it is).
type stepV1 struct {
	Seq            int               `json:"seq"`
	MachineID      string            `json:"machine_id,omitempty"`
	Name           string            `json:"name,omitempty"`
	Op             Op                `json:"op"`
	Region         string            `json:"region,omitempty"`
	Group          string            `json:"group,omitempty"`
	FromImage      string            `json:"from_image,omitempty"`
	ToImage        string            `json:"to_image,omitempty"`
	FromState      string            `json:"from_state,omitempty"`
	ToState        string            `json:"to_state,omitempty"`
	FromInstanceID string            `json:"from_instance_id,omitempty"`
	Label          string            `json:"label,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	Config         json.RawMessage   `json:"config,omitempty"`
	Force          bool              `json:"force,omitempty"`
	Reason         string            `json:"reason,omitempty"`
	LeaseRef       string            `json:"lease_ref,omitempty"`
}

// v0StepNames maps the names schema 0 gave step fields (encoding/json's
// defaults for Step as it was then) to schema 1's. Frozen: renaming a Step
// field must not break reading old journals. Keys not here (the dropped
// WaitStaleLease) are ignored, as they were.
var v0StepNames = map[string]string{
	"Seq": "seq", "MachineID": "machine_id", "Name": "name", "Op": "op", "Region": "region", "Group": "group",
	"FromImage": "from_image", "ToImage": "to_image", "FromState": "from_state", "ToState": "to_state",
	"FromInstanceID": "from_instance_id", "Label": "label", "Metadata": "metadata", "Config": "config",
	"Force": "force", "Reason": "reason", "LeaseRef": "lease_ref",
}

// stepsV0 reads schema 0 steps as schema 1 ones, by renaming their fields.
func stepsV0(raw json.RawMessage) ([]stepV1, error) {
	var old []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &old); err != nil {
		return nil, err
	}
	out := make([]stepV1, len(old))
	for i, fields := range old {
		renamed := make(map[string]json.RawMessage, len(fields))
		for k, v := range fields {
			if name, ok := v0StepNames[k]; ok {
				renamed[name] = v
			}
		}
		b, err := json.Marshal(renamed)
		if err == nil {
			err = json.Unmarshal(b, &out[i])
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stepFields pairs each field of s with its place in d, in one list for
// both directions. Config is apart: it changes form on the way.
func stepFields(s *Step, d *stepV1) [][2]any {
	return [][2]any{
		{&s.Seq, &d.Seq}, {&s.MachineID, &d.MachineID}, {&s.Name, &d.Name}, {&s.Op, &d.Op},
		{&s.Region, &d.Region}, {&s.Group, &d.Group}, {&s.FromImage, &d.FromImage}, {&s.ToImage, &d.ToImage},
		{&s.FromState, &d.FromState}, {&s.ToState, &d.ToState}, {&s.FromInstanceID, &d.FromInstanceID},
		{&s.Label, &d.Label}, {&s.Metadata, &d.Metadata}, {&s.Force, &d.Force}, {&s.Reason, &d.Reason},
		{&s.LeaseRef, &d.LeaseRef},
	}
}

// copyFields copies each pair's side from to the other side.
func copyFields(pairs [][2]any, from int) {
	for _, p := range pairs {
		reflect.ValueOf(p[1-from]).Elem().Set(reflect.ValueOf(p[from]).Elem())
	}
}

func stepRecord(s Step) (stepV1, error) {
	var d stepV1
	copyFields(stepFields(&s, &d), 0)
	var err error
	if d.Config, err = configJSON(s.Config); err != nil {
		return stepV1{}, fmt.Errorf("%s: %w", stepName(s.Seq, s.MachineID), err)
	}
	return d, nil
}

func (d stepV1) step() (Step, error) {
	var s Step
	copyFields(stepFields(&s, &d), 1)
	var err error
	if s.Config, err = configFromJSON(d.Config); err != nil {
		return Step{}, fmt.Errorf("%s: %w", stepName(d.Seq, d.MachineID), err)
	}
	return s, nil
}

// stepName names a step in errors: a launch has no machine ID yet.
func stepName(seq int, machineID string) string {
	if machineID == "" {
		return fmt.Sprintf("step %d", seq)
	}
	return fmt.Sprintf("step %d (%s)", seq, machineID)
}

func stepRecords(steps []Step) ([]stepV1, error) {
	if steps == nil {
		return nil, nil
	}
	out := make([]stepV1, len(steps))
	for i, s := range steps {
		var err error
		if out[i], err = stepRecord(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeSteps reads a "steps" or "held" array written in schema.
func decodeSteps(raw json.RawMessage, schema int) ([]Step, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var recs []stepV1
	var err error
	if schema == 0 {
		recs, err = stepsV0(raw)
	} else {
		err = json.Unmarshal(raw, &recs)
	}
	if err != nil {
		return nil, err
	}
	steps := make([]Step, len(recs))
	for i, r := range recs {
		if steps[i], err = r.step(); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// actionFields is ActionRecord without its JSON methods: the on-disk action
// embeds it, so a field added to ActionRecord is written and read as its
// tag says without being listed here.
type actionFields ActionRecord

// actionOnDisk is an action record as written. Steps and Held shadow the
// embedded fields of the same JSON names.
type actionOnDisk struct {
	Schema int `json:"schema"`
	actionFields
	Steps []stepV1 `json:"steps"`
	Held  []stepV1 `json:"held,omitempty"`
}

// MarshalJSON writes the action in schema JournalSchema.
func (a ActionRecord) MarshalJSON() ([]byte, error) {
	steps, err := stepRecords(a.Steps)
	if err != nil {
		return nil, err
	}
	held, err := stepRecords(a.Held)
	if err != nil {
		return nil, err
	}
	return marshalUnescaped(actionOnDisk{Schema: JournalSchema, actionFields: actionFields(a), Steps: steps, Held: held})
}

// UnmarshalJSON reads an action of any schema up to JournalSchema and
// refuses a newer one (ErrJournalTooNew) rather than misread it.
func (a *ActionRecord) UnmarshalJSON(b []byte) error {
	var d struct {
		Schema int `json:"schema"`
		actionFields
		Steps json.RawMessage `json:"steps"`
		Held  json.RawMessage `json:"held"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	switch {
	case d.Schema > JournalSchema:
		return fmt.Errorf("%w (action %q has journal schema %d, this one reads up to %d): upgrade flyrescue to read this journal",
			ErrJournalTooNew, d.ID, d.Schema, JournalSchema)
	case d.Schema < 0:
		return fmt.Errorf("action %q has journal schema %d, which no flyrescue writes", d.ID, d.Schema)
	}
	steps, err := decodeSteps(d.Steps, d.Schema)
	if err != nil {
		return fmt.Errorf("action %q: steps: %w", d.ID, err)
	}
	held, err := decodeSteps(d.Held, d.Schema)
	if err != nil {
		return fmt.Errorf("action %q: held: %w", d.ID, err)
	}
	*a = ActionRecord(d.actionFields)
	a.Steps, a.Held = steps, held
	return nil
}

// intentFields is IntentRecord without its JSON methods (see actionFields).
type intentFields IntentRecord

// intentOnDisk is an intent as written: the config before, as raw JSON.
type intentOnDisk struct {
	intentFields
	ConfigBefore json.RawMessage `json:"config_before,omitempty"`
}

// MarshalJSON writes the intent with its config as raw JSON.
func (in IntentRecord) MarshalJSON() ([]byte, error) {
	cfg, err := configJSON(in.ConfigBefore)
	if err != nil {
		return nil, fmt.Errorf("intent of %s: %w", stepName(in.Seq, in.MachineID), err)
	}
	return marshalUnescaped(intentOnDisk{intentFields: intentFields(in), ConfigBefore: cfg})
}

// UnmarshalJSON reads an intent (one shape in every schema so far).
func (in *IntentRecord) UnmarshalJSON(b []byte) error {
	var d intentOnDisk
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	return d.decode(in)
}

func (d *intentOnDisk) decode(in *IntentRecord) error {
	cfg, err := configFromJSON(d.ConfigBefore)
	if err != nil {
		return fmt.Errorf("intent of %s: %w", stepName(d.Seq, d.MachineID), err)
	}
	*in = IntentRecord(d.intentFields)
	in.ConfigBefore = cfg
	return nil
}

// lineOnDisk is a journal line as readRecords decodes it: the intent
// without IntentRecord's UnmarshalJSON, which would have encoding/json
// scan the intent twice more before its config is decoded (a long
// journal is read again on each change while a run writes it).
type lineOnDisk struct {
	Record
	Intent *intentOnDisk `json:"intent,omitempty"` // shadows Record.Intent
}

// decodeLine decodes one journal line into r.
func decodeLine(line []byte, r *Record) error {
	var d lineOnDisk
	if err := json.Unmarshal(line, &d); err != nil {
		return err
	}
	*r = d.Record
	if d.Intent != nil {
		r.Intent = new(IntentRecord)
		return d.Intent.decode(r.Intent)
	}
	return nil
}

// marshalUnescaped is json.Marshal without HTML escaping: a secret must
// reach Redact as it is, not as \u003c... (see encodeRecord).
func marshalUnescaped(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

package recovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/flyrescue/flyrescue/flyclient"
	"github.com/flyrescue/flyrescue/flyclient/flysim"
)

// fill sets v to a value that is not its zero value, recursively, so a
// round trip that drops or misplaces a field is seen.
func fill(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.Type() == reflect.TypeFor[*flyclient.MachineConfig]() {
		v.Set(reflect.ValueOf(&flyclient.MachineConfig{Image: "registry.fly.io/app:" + path, Env: map[string]string{"K": path}}))
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(len(path)))
	case reflect.Float64:
		v.SetFloat(float64(len(path)) / 4)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), path+"[0]")
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, path+".key")
		fill(t, e, path+".value")
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	default:
		t.Fatalf("%s: fill does not know %s; teach it", path, v.Kind())
	}
}

// roundTrip writes r to a journal and reads it back.
func roundTrip(t *testing.T, r Record) Record {
	t.Helper()
	j, err := OpenJournal(t.TempDir(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Append(r); err != nil {
		t.Fatal(err)
	}
	recs, _, err := j.Records()
	if err != nil || len(recs) != 1 {
		t.Fatalf("read back: %d records, %v", len(recs), err)
	}
	return recs[0]
}

// Every field of Step, and of each record, survives the journal: the
// on-disk step lists Step's fields by name, so a field added to Step
// without a place on disk would be lost here first, by name.
func TestJournalKeepsEveryStepField(t *testing.T) {
	st := reflect.TypeFor[Step]()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		var s Step
		fill(t, reflect.ValueOf(&s).Elem().Field(i), f.Name)
		got := roundTrip(t, Record{Type: RecordAction, Action: &ActionRecord{ID: "a", Steps: []Step{s}, Held: []Step{s}}})
		for _, back := range [][]Step{got.Action.Steps, got.Action.Held} {
			if len(back) != 1 || !reflect.DeepEqual(back[0], s) {
				t.Errorf("Step.%s did not survive the journal: wrote %+v, read %+v", f.Name, s, back)
			}
		}
	}
}

func TestJournalKeepsEveryRecordField(t *testing.T) {
	for _, typ := range []string{RecordAction, RecordIntent, RecordOutcome} {
		var r Record
		fill(t, reflect.ValueOf(&r).Elem(), "rec")
		r.Type = typ
		got := roundTrip(t, r)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("a %s record did not survive the journal:\nwrote %+v %+v %+v %+v\nread  %+v %+v %+v %+v",
				typ, r, r.Action, r.Intent, r.Outcome, got, got.Action, got.Intent, got.Outcome)
		}
	}
}

// configLine is an intent whose saved config has what this fly-go does not
// know (a field at the top and one inside guest) and fields in an order
// fly-go would not write them in.
const configLine = `{"type":"intent","at":"2026-01-02T15:04:05Z","intent":{"action_id":"a","seq":1,"machine_id":"m1","op":"destroy",` +
	`"config_before":{"image":"registry.fly.io/app:v1","init":{},"future_field":{"mode":"kept","n":[1,2]},` +
	`"guest":{"cpus":1,"cpu_kind":"shared","memory_mb":256,"future_guest":true}}}}`

// savedConfig is configLine's config as it is in the file.
func savedConfig(t *testing.T, line string) string {
	t.Helper()
	var rec struct {
		Intent struct {
			ConfigBefore json.RawMessage `json:"config_before"`
		}
		Action struct {
			Steps []struct {
				Config json.RawMessage `json:"config"`
			}
		}
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Intent.ConfigBefore != nil {
		return string(rec.Intent.ConfigBefore)
	}
	if len(rec.Action.Steps) == 1 {
		return string(rec.Action.Steps[0].Config)
	}
	return ""
}

// A saved config is written back as it was read, byte for byte, with what
// fly-go does not know; one changed in memory is written as it now is.
func TestJournalKeepsRawConfig(t *testing.T) {
	var rec Record
	if err := json.Unmarshal([]byte(configLine), &rec); err != nil {
		t.Fatal(err)
	}
	cfg := rec.Intent.ConfigBefore
	if cfg == nil || cfg.Image != "registry.fly.io/app:v1" || cfg.Guest == nil || cfg.Guest.CPUs != 1 {
		t.Fatalf("config read as %+v", cfg)
	}
	line, err := encodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := savedConfig(t, configLine)
	if got := savedConfig(t, string(line)); got != want {
		t.Errorf("config written back as\n%s\nwant\n%s", got, want)
	}
	// The same config in an undo's step: still as it was read.
	line, err = encodeRecord(Record{Type: RecordAction, Action: &ActionRecord{ID: "u", Steps: []Step{{Seq: 1, Op: OpLaunch, Config: cfg}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := savedConfig(t, string(line)); got != want {
		t.Errorf("config copied into a step written as\n%s\nwant\n%s", got, want)
	}
	cfg.Image = "registry.fly.io/app:v2"
	line, _ = encodeRecord(rec)
	if got := savedConfig(t, string(line)); !strings.Contains(got, "app:v2") || strings.Contains(got, "app:v1") {
		t.Errorf("a changed config was written as it was read: %s", got)
	}
}

// The table of remembered configs lets go of a config nobody holds.
func TestJournalForgetsUnheldRawConfigs(t *testing.T) {
	var keys []weak.Pointer[flyclient.MachineConfig]
	for i := 0; i < 20; i++ {
		var rec Record
		if err := json.Unmarshal([]byte(configLine), &rec); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, weak.Make(rec.Intent.ConfigBefore))
	}
	held := func() int {
		rawConfigs.Lock()
		defer rawConfigs.Unlock()
		n := 0
		for _, k := range keys {
			if _, ok := rawConfigs.m[k]; ok {
				n++
			}
		}
		return n
	}
	if held() != len(keys) {
		t.Fatalf("%d of %d configs remembered", held(), len(keys))
	}
	// Cleanups run on their own goroutine after a collection: give it a
	// bounded number of collections, not a time.
	for i := 0; i < 1000 && held() > 0; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if n := held(); n > 0 {
		t.Errorf("%d configs nobody holds are still remembered", n)
	}
}

// A field fly-go does not know, in the config a destroy saved, is still
// there in the journal after the undo relaunched the machine: the undo's
// step holds the config as it was saved. (The Machines API gets fly-go's
// encoding: see journal_config.go.)
func TestUnknownConfigFieldSurvivesUndo(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 6, NoRateLimit: true, Seed: 30})
	e := r.engine(Options{})
	ctx := context.Background()
	var victim string
	for id := range r.machines() {
		victim = id
		break
	}
	p, err := e.PlanDestroy(ctx, DestroyRequest{Selector: Selector{MachineIDs: []string{victim}}, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.run(e, p); res.OK != 1 {
		t.Fatalf("destroy: %+v", res.Machines)
	}
	// The saved config, as a newer flyrescue would have written it.
	path := e.Journal().Path()
	data, _ := os.ReadFile(path)
	extra := []byte(`{"future_field":{"mode":"kept"},`)
	edited := bytes.Replace(data, []byte(`"config_before":{`), append([]byte(`"config_before":`), extra...), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("no saved config in the journal")
	}
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	undo, err := e.PlanUndo(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	res := r.run(e, undo)
	if res.OK != 1 || res.Machines[0].NewMachineID == "" {
		t.Fatalf("undo: %+v", res.Machines)
	}
	if v, ok := r.sim.Machine(res.Machines[0].NewMachineID); !ok || v.Destroyed || v.State != "started" {
		t.Errorf("the relaunched machine: %+v", v)
	}
	recs, _, err := e.Journal().Records()
	if err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var intent, step string
	for i, rec := range recs {
		switch {
		case rec.Type == RecordIntent && rec.Intent.ActionID == p.ID:
			intent = savedConfig(t, lines[i])
		case rec.Type == RecordAction && rec.Action.ID == undo.ID:
			step = savedConfig(t, lines[i])
		}
	}
	if !strings.Contains(intent, `"future_field":{"mode":"kept"}`) || step != intent {
		t.Errorf("the undo's step config\n%s\nis not the saved one\n%s", step, intent)
	}
}

// A config that cannot be encoded (no API answer holds one, but a bug
// could build one) is an error before anything is touched: the action
// cannot be journaled, so nothing runs; CloneConfig says so too, where it
// would have panicked on an engine goroutine.
func TestUnencodableConfigIsAnError(t *testing.T) {
	r := newRig(t, flysim.Options{Scenario: "healthy", Machines: 6, NoRateLimit: true, Seed: 31})
	e := r.engine(Options{})
	before := len(r.machines())
	p, err := e.PlanScale(context.Background(), ScaleRequest{Group: "web", Count: 4})
	if err != nil || len(p.Steps) != 1 || p.Steps[0].Config == nil {
		t.Fatalf("scale plan: %v %+v", err, p)
	}
	cfg := p.Steps[0].Config
	if err := json.Unmarshal([]byte(`{"spot":{"max_price_fraction":0.5}}`), cfg); err != nil || cfg.Spot == nil {
		t.Fatal(err)
	}
	cfg.Spot.MaxPriceFraction = math.NaN()
	if _, err := flyclient.CloneConfig(p.Steps[0].Config); err == nil {
		t.Error("CloneConfig of an unencodable config succeeded")
	}
	_, err = e.Execute(context.Background(), p, nil)
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("run with an unencodable config: %v", err)
	}
	if n := len(r.machines()); n != before {
		t.Errorf("%d machines after the refused run, %d before", n, before)
	}
}

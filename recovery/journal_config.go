package recovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"weak"

	"github.com/flyrescue/flyrescue/flyclient"
)

// A machine config in the journal is the JSON it was read as, and it is
// written back as that same JSON. The engine holds configs as fly-go's
// type, which drops what this fly-go does not know (a field of a newer
// Machines API, saved by a newer flyrescue): kept only there, such a field
// would vanish from the journal the first time a config is copied from one
// record to another, as an undo copies the saved config into its steps.
//
// So a config with a field fly-go does not know has its original JSON
// remembered beside it, by identity: the undo step holds the very
// *MachineConfig the intent was read into, and writes the original JSON.
// A config changed in memory since it was read is written as fly-go
// encodes it (the remembered JSON no longer describes it). The table holds
// weak pointers: an entry goes with its config. Every other config (all
// those this flyrescue writes) is written as fly-go encodes it, which is
// the JSON it was read as, and is not remembered: a long journal is read
// again on every change while a run writes it, and must stay cheap.
//
// What reaches the Machines API is still fly-go's encoding: a field it
// does not know is kept in the journal, not sent.

var rawConfigs = struct {
	sync.Mutex
	m map[weak.Pointer[flyclient.MachineConfig]]json.RawMessage
}{m: map[weak.Pointer[flyclient.MachineConfig]]json.RawMessage{}}

// configJSON is c as the journal writes it: the JSON it was read as when
// that is remembered and c is unchanged, else fly-go's encoding.
func configJSON(c *flyclient.MachineConfig) (json.RawMessage, error) {
	if c == nil {
		return nil, nil
	}
	b, err := marshalUnescaped(c)
	if err != nil {
		return nil, fmt.Errorf("the machine config does not encode: %w", err)
	}
	rawConfigs.Lock()
	raw, ok := rawConfigs.m[weak.Make(c)]
	rawConfigs.Unlock()
	if !ok {
		return b, nil
	}
	// Unchanged: it still encodes as what the remembered JSON decodes to.
	var asRead flyclient.MachineConfig
	if json.Unmarshal(raw, &asRead) == nil {
		if was, err := marshalUnescaped(&asRead); err == nil && bytes.Equal(was, b) {
			return raw, nil
		}
	}
	return b, nil
}

// configFromJSON decodes a journaled config, remembering its JSON when it
// has a field fly-go does not know.
func configFromJSON(raw json.RawMessage) (*flyclient.MachineConfig, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c flyclient.MachineConfig
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if strict.Decode(&c) == nil {
		return &c, nil
	}
	c = flyclient.MachineConfig{}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("machine config: %w", err)
	}
	// raw is the decoder's copy, not the line's buffer: it can be kept.
	key := weak.Make(&c)
	rawConfigs.Lock()
	rawConfigs.m[key] = raw
	rawConfigs.Unlock()
	runtime.AddCleanup(&c, forgetRawConfig, key)
	return &c, nil
}

func forgetRawConfig(key weak.Pointer[flyclient.MachineConfig]) {
	rawConfigs.Lock()
	delete(rawConfigs.m, key)
	rawConfigs.Unlock()
}

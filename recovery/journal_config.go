package recovery

import (
	"bytes"
	"crypto/sha256"
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
// So a config whose JSON says more than (or other than) fly-go's encoding
// of it has its original JSON remembered beside it, by identity: the undo
// step holds the very *MachineConfig the intent was read into, and writes
// the original JSON. A config changed in memory since it was read is
// written as fly-go encodes it (the remembered JSON no longer describes
// it). The table holds weak pointers: an entry goes with its config.
// Configs that fly-go encodes to the bytes they were read from (all those
// written by this flyrescue) are not remembered at all.
//
// What reaches the Machines API is still fly-go's encoding: a field it
// does not know is kept in the journal, not sent.

type rawConfig struct {
	raw json.RawMessage
	// encoded is the hash of fly-go's encoding of the config when read:
	// a config that still encodes to it is unchanged.
	encoded [sha256.Size]byte
}

var rawConfigs = struct {
	sync.Mutex
	m map[weak.Pointer[flyclient.MachineConfig]]rawConfig
}{m: map[weak.Pointer[flyclient.MachineConfig]]rawConfig{}}

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
	kept, ok := rawConfigs.m[weak.Make(c)]
	rawConfigs.Unlock()
	if ok && sha256.Sum256(b) == kept.encoded {
		return kept.raw, nil
	}
	return b, nil
}

// configFromJSON decodes a journaled config, remembering its JSON when
// fly-go's encoding of the result would not say the same.
func configFromJSON(raw json.RawMessage) (*flyclient.MachineConfig, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c flyclient.MachineConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("machine config: %w", err)
	}
	b, err := marshalUnescaped(&c)
	if err != nil {
		return nil, fmt.Errorf("machine config does not encode back: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, fmt.Errorf("machine config: %w", err)
	}
	if bytes.Equal(compact.Bytes(), b) {
		return &c, nil
	}
	kept := rawConfig{raw: compact.Bytes(), encoded: sha256.Sum256(b)}
	key := weak.Make(&c)
	rawConfigs.Lock()
	rawConfigs.m[key] = kept
	rawConfigs.Unlock()
	runtime.AddCleanup(&c, forgetRawConfig, key)
	return &c, nil
}

func forgetRawConfig(key weak.Pointer[flyclient.MachineConfig]) {
	rawConfigs.Lock()
	delete(rawConfigs.m, key)
	rawConfigs.Unlock()
}

package consensus

import (
	"encoding/json"
	"fmt"
)

// Config commands: the replicated config values (Store.Config).

// setConfig sets or, without a value, removes a config value.
// Fields: key:string present:bool [value:bytes]
type setConfig struct {
	key   string
	value json.RawMessage // nil: remove
}

func encodeSetConfig(key string, value json.RawMessage) []byte {
	e := newCommand(kindSetConfig, len(key)+len(value))
	(&setConfig{key, value}).encode(e)
	return e.b
}

func (c *setConfig) encode(e *encoder) {
	e.string(c.key)
	e.bool(c.value != nil)
	if c.value != nil {
		e.bytes(c.value)
	}
}

func (c *setConfig) decode(d *decoder) {
	c.key = d.string()
	if d.bool() {
		c.value = d.bytes()
	}
}

// validateConfig checks a key and value; the proposer runs it to fail
// fast, the FSM runs it because it decides.
func validateConfig(key string, value json.RawMessage) error {
	if key == "" || len(key) > maxNameLen {
		return fmt.Errorf("%w: config key must have 1 to %d bytes", ErrInvalid, maxNameLen)
	}
	if value != nil && !json.Valid(value) {
		return fmt.Errorf("%w: config value for %q is not valid JSON", ErrInvalid, key)
	}
	return nil
}

func (c *setConfig) apply(f *fsm, _ uint64) (cmdResult, bool) {
	if err := validateConfig(c.key, c.value); err != nil {
		return cmdResult{err: err}, false
	}
	f.mu.Lock()
	if c.value == nil {
		delete(f.config, c.key)
	} else {
		f.config[c.key] = c.value
	}
	f.mu.Unlock()
	return cmdResult{}, true
}

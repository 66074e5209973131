package pyengine

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config is the engine's settings.
type Config struct {
	// Python is the interpreter: a path, or a name looked up in PATH.
	// Default "python3".
	Python string
	// MaxWorkersPerFunction bounds the workers of one code (function,
	// version); executions beyond it wait for a free worker. Default 4.
	MaxWorkersPerFunction int
	// MaxWorkers bounds the workers of the whole node; at the bound an
	// idle worker of another function is stopped to make room, or the
	// execution waits. Default 32.
	MaxWorkers int
	// WarmWorkers is how many workers a function keeps warm until Scale
	// says otherwise (Scale may set 0). Default (and when 0) 1.
	WarmWorkers int
	// IdleTimeout is how long a worker beyond a function's warm count
	// stays idle before it is stopped. Default 5m.
	IdleTimeout time.Duration
	// WorkDir is where packages are unpacked (a folder the engine owns,
	// under the node's data dir). Default: a temporary folder removed by
	// Close.
	WorkDir string
	// DefaultTimeout bounds an execution whose Code has no Timeout.
	// Default 5s, Qinling's default function timeout.
	DefaultTimeout time.Duration
	// StartTimeout bounds a worker's start (interpreter up, limits set).
	// Default 10s.
	StartTimeout time.Duration
	// MaxUnpackedBytes bounds the unpacked size of one package, in bytes.
	// Default 256 MiB.
	MaxUnpackedBytes int64
	// MaxPackageFiles bounds the entries of one package's zip. Default
	// 10000.
	MaxPackageFiles int
	// MaxLogBytes bounds one execution's log, in bytes; the rest is
	// dropped with a note. Default 1 MiB.
	MaxLogBytes int
	// MaxOutputBytes bounds one execution's output as JSON, in bytes.
	// Default 8 MiB.
	MaxOutputBytes int
	// Logger receives the engine's own log (worker starts and deaths,
	// stray output of user code). Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	return Config{
		Python:                "python3",
		MaxWorkersPerFunction: 4,
		MaxWorkers:            32,
		WarmWorkers:           1,
		IdleTimeout:           5 * time.Minute,
		DefaultTimeout:        5 * time.Second,
		StartTimeout:          10 * time.Second,
		MaxUnpackedBytes:      256 << 20,
		MaxPackageFiles:       10000,
		MaxLogBytes:           1 << 20,
		MaxOutputBytes:        8 << 20,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Python == "" {
		c.Python = d.Python
	}
	if c.MaxWorkersPerFunction == 0 {
		c.MaxWorkersPerFunction = d.MaxWorkersPerFunction
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = d.MaxWorkers
	}
	if c.WarmWorkers == 0 {
		c.WarmWorkers = d.WarmWorkers
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.DefaultTimeout == 0 {
		c.DefaultTimeout = d.DefaultTimeout
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = d.StartTimeout
	}
	if c.MaxUnpackedBytes == 0 {
		c.MaxUnpackedBytes = d.MaxUnpackedBytes
	}
	if c.MaxPackageFiles == 0 {
		c.MaxPackageFiles = d.MaxPackageFiles
	}
	if c.MaxLogBytes == 0 {
		c.MaxLogBytes = d.MaxLogBytes
	}
	if c.MaxOutputBytes == 0 {
		c.MaxOutputBytes = d.MaxOutputBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports every bad field (after defaults are applied to zero
// ones).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.MaxWorkersPerFunction < 0 {
		errs = append(errs, fmt.Errorf("pyengine: MaxWorkersPerFunction %d is negative", c.MaxWorkersPerFunction))
	}
	if c.MaxWorkers < 0 {
		errs = append(errs, fmt.Errorf("pyengine: MaxWorkers %d is negative", c.MaxWorkers))
	}
	if c.MaxWorkers > 0 && c.MaxWorkersPerFunction > c.MaxWorkers {
		errs = append(errs, fmt.Errorf("pyengine: MaxWorkersPerFunction %d exceeds MaxWorkers %d", c.MaxWorkersPerFunction, c.MaxWorkers))
	}
	if c.WarmWorkers < 0 || c.WarmWorkers > c.MaxWorkersPerFunction {
		errs = append(errs, fmt.Errorf("pyengine: WarmWorkers %d is outside 0..MaxWorkersPerFunction (%d)", c.WarmWorkers, c.MaxWorkersPerFunction))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"IdleTimeout", c.IdleTimeout}, {"DefaultTimeout", c.DefaultTimeout}, {"StartTimeout", c.StartTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("pyengine: %s %v is negative", d.name, d.v))
		}
	}
	if c.MaxUnpackedBytes < 0 || c.MaxPackageFiles < 0 || c.MaxLogBytes < 0 || c.MaxOutputBytes < 0 {
		errs = append(errs, errors.New("pyengine: package, log and output limits must not be negative"))
	}
	return errors.Join(errs...)
}

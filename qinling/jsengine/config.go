package jsengine

import (
	"errors"
	"log/slog"

	"eventide/jsrt"
)

// Config configures an Engine.
type Config struct {
	// MaxWorkersPerFunction bounds the runtimes of one code key (one
	// function version's code): concurrent executions of a function beyond
	// it wait for a runtime. Default 8.
	MaxWorkersPerFunction int
	// MaxWorkers bounds the runtimes of the whole engine (every function):
	// the node's capacity, which Pool reports as total. Default 64.
	MaxWorkers int
	// DefaultWarm is how many runtimes a function's code keeps ready when
	// it has not been scaled, made when its code is first run. Default 1
	// (DefaultConfig); 0 makes none ahead: each execution that finds no
	// idle runtime makes one, which then stays warm.
	DefaultWarm int
	// MaxPackageFiles and MaxPackageBytes bound a package once unzipped:
	// files, and total uncompressed bytes. Defaults 10,000 and 256 MiB.
	MaxPackageFiles int
	MaxPackageBytes int64
	// MaxLogBytes bounds one execution's log; later lines are dropped with
	// a note. Default 1 MiB.
	MaxLogBytes int
	// MaxOutputBytes bounds one execution's output (its JSON); a larger
	// one fails the execution. Default 1 MiB.
	MaxOutputBytes int
	// Memory stops invocations that grow the heap past their function's
	// memory_size. Nil: the engine makes one and runs it until Close.
	Memory *jsrt.MemoryGuard
	// Logger receives the engine's own events. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		MaxWorkersPerFunction: 8,
		MaxWorkers:            64,
		DefaultWarm:           1,
		MaxPackageFiles:       10000,
		MaxPackageBytes:       256 << 20,
		MaxLogBytes:           1 << 20,
		MaxOutputBytes:        1 << 20,
	}
}

// withDefaults fills the zero fields with DefaultConfig's values.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxWorkersPerFunction == 0 {
		c.MaxWorkersPerFunction = d.MaxWorkersPerFunction
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = d.MaxWorkers
	}
	if c.MaxPackageFiles == 0 {
		c.MaxPackageFiles = d.MaxPackageFiles
	}
	if c.MaxPackageBytes == 0 {
		c.MaxPackageBytes = d.MaxPackageBytes
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

// Validate reports every bad field. Zero fields take their defaults (New
// applies them), so only negative values and a per-function bound above
// the node's are refused; DefaultWarm 0 means no runtime is made before a
// function's first execution.
func (c Config) Validate() error {
	var errs []error
	if c.MaxWorkersPerFunction < 0 {
		errs = append(errs, errors.New("jsengine: MaxWorkersPerFunction must not be negative"))
	}
	if c.MaxWorkers < 0 {
		errs = append(errs, errors.New("jsengine: MaxWorkers must not be negative"))
	}
	if c.DefaultWarm < 0 {
		errs = append(errs, errors.New("jsengine: DefaultWarm must not be negative"))
	}
	if c.MaxPackageFiles < 0 || c.MaxPackageBytes < 0 || c.MaxLogBytes < 0 || c.MaxOutputBytes < 0 {
		errs = append(errs, errors.New("jsengine: package, log and output limits must not be negative"))
	}
	d := c.withDefaults()
	if d.MaxWorkersPerFunction > d.MaxWorkers {
		errs = append(errs, errors.New("jsengine: MaxWorkersPerFunction must not exceed MaxWorkers"))
	}
	if d.DefaultWarm > d.MaxWorkersPerFunction {
		errs = append(errs, errors.New("jsengine: DefaultWarm must not exceed MaxWorkersPerFunction"))
	}
	return errors.Join(errs...)
}

package containers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Config configures an Engine.
type Config struct {
	// Host is the Docker engine's address, as DOCKER_HOST spells it:
	// "unix:///var/run/docker.sock" or "tcp://host:port". Required.
	Host string
	// APIVersion is the Engine API version in the request paths. Default
	// "v1.41" (Docker 20.10 and later).
	APIVersion string
	// MaxConcurrent bounds the containers this engine runs at once; more
	// runs wait for a free slot (or their context). Default 8.
	MaxConcurrent int
	// DefaultTimeout bounds a run whose code has no timeout. Default 5 s.
	DefaultTimeout time.Duration
	// MaxOutputBytes bounds what is kept of a container's stdout and of
	// its stderr; the rest is dropped with a note. Default 1 MiB.
	MaxOutputBytes int64
	// Logger is the engine's logger. Default: discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults of every optional field.
func DefaultConfig() Config {
	return Config{
		APIVersion:     "v1.41",
		MaxConcurrent:  8,
		DefaultTimeout: 5 * time.Second,
		MaxOutputBytes: 1 << 20,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.APIVersion == "" {
		c.APIVersion = d.APIVersion
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = d.MaxConcurrent
	}
	if c.DefaultTimeout == 0 {
		c.DefaultTimeout = d.DefaultTimeout
	}
	if c.MaxOutputBytes == 0 {
		c.MaxOutputBytes = d.MaxOutputBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := parseHost(c.Host); err != nil {
		errs = append(errs, err)
	}
	if c.APIVersion != "" && !strings.HasPrefix(c.APIVersion, "v1.") {
		errs = append(errs, fmt.Errorf("APIVersion %q is not v1.N", c.APIVersion))
	}
	if c.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("MaxConcurrent %d is negative", c.MaxConcurrent))
	}
	if c.DefaultTimeout < 0 || c.MaxOutputBytes < 0 {
		errs = append(errs, fmt.Errorf("DefaultTimeout %s and MaxOutputBytes %d must not be negative", c.DefaultTimeout, c.MaxOutputBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("containers: config: %w", err)
	}
	return nil
}

// parseHost splits a Docker host into the network and address to dial.
func parseHost(host string) (network, addr string, err error) {
	if host == "" {
		return "", "", errors.New("Host is required (unix:///path or tcp://host:port)")
	}
	u, err := url.Parse(host)
	if err != nil {
		return "", "", fmt.Errorf("Host %q: %w", host, err)
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return "", "", fmt.Errorf("Host %q has no socket path", host)
		}
		return "unix", u.Path, nil
	case "tcp":
		if u.Host == "" || u.Port() == "" {
			return "", "", fmt.Errorf("Host %q needs host:port", host)
		}
		return "tcp", u.Host, nil
	}
	return "", "", fmt.Errorf("Host %q: use unix:///path or tcp://host:port", host)
}

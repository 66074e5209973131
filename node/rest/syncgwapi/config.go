package syncgwapi

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"eventide/node/rest/restauth"
)

// Defaults of Config.
const (
	// DefaultMaxRequestBytes bounds a request body after decompression.
	DefaultMaxRequestBytes = 128 << 20
	// DefaultMaxDocBytes is Sync Gateway's maximum document size (20 MB).
	DefaultMaxDocBytes = 20 << 20
)

// Config configures the Sync Gateway public API.
type Config struct {
	// Credentials authenticate every request (HTTP basic auth) except
	// those to /_ping. Required.
	Credentials restauth.Credentials
	// Logger receives internal errors and recovered panics. Default discards.
	Logger *slog.Logger

	// Docs serves reads. Required.
	Docs DocReader
	// Writer applies writes. Required.
	Writer DocWriter

	// ServerUUID is reported as server_uuid by GET /{db}/. Default "".
	ServerUUID string
	// MaxRequestBytes bounds one request body, in bytes, after gzip
	// decompression; larger bodies get 413. Default DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// MaxDocBytes bounds one document body, in bytes; larger documents get
	// 413. Default DefaultMaxDocBytes (20 MB, as Sync Gateway).
	MaxDocBytes int
	// Now is the clock used to turn relative _exp values into absolute
	// expiry times, to hide expired documents, and for instance_start_time.
	// Default time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every setting's default filled in;
// the credentials and the collaborators are the caller's.
func DefaultConfig() Config {
	return Config{
		MaxRequestBytes: DefaultMaxRequestBytes,
		MaxDocBytes:     DefaultMaxDocBytes,
		Logger:          slog.New(slog.DiscardHandler),
		Now:             time.Now,
	}
}

// withDefaults fills zero fields with their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = d.MaxRequestBytes
	}
	if c.MaxDocBytes == 0 {
		c.MaxDocBytes = d.MaxDocBytes
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}

// Validate reports every invalid setting (ErrInvalidConfig). Zero sizes
// count as defaults. New also requires the credentials and the
// collaborators.
func (c Config) Validate() error {
	var errs []error
	if c.MaxRequestBytes < 0 {
		errs = append(errs, fmt.Errorf("max request bytes %d is negative", c.MaxRequestBytes))
	}
	if c.MaxDocBytes < 0 {
		errs = append(errs, fmt.Errorf("max doc bytes %d is negative", c.MaxDocBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// missingDependencies reports every nil collaborator (ErrMissingDependency).
func (c Config) missingDependencies() error {
	var errs []error
	if c.Credentials == nil {
		errs = append(errs, fmt.Errorf("%w: Credentials", ErrMissingDependency))
	}
	if c.Docs == nil {
		errs = append(errs, fmt.Errorf("%w: Docs", ErrMissingDependency))
	}
	if c.Writer == nil {
		errs = append(errs, fmt.Errorf("%w: Writer", ErrMissingDependency))
	}
	return errors.Join(errs...)
}

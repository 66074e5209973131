package syncgwapi

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxRequestBytes bounds a request body after decompression.
	DefaultMaxRequestBytes = 128 << 20
	// DefaultMaxDocBytes is Sync Gateway's maximum document size (20 MB).
	DefaultMaxDocBytes = 20 << 20
)

// Config configures the Sync Gateway public API handler.
type Config struct {
	// Username and Password are the HTTP basic-auth credentials that every
	// route except /_ping requires. Both required.
	Username string
	Password string
	// ServerUUID is reported as server_uuid by GET /{db}/. Default "".
	ServerUUID string
	// MaxRequestBytes bounds one request body, in bytes, after gzip
	// decompression; larger bodies get 413. Default DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// MaxDocBytes bounds one document body, in bytes; larger documents get
	// 413. Default DefaultMaxDocBytes (20 MB, as Sync Gateway).
	MaxDocBytes int
	// Logger receives internal errors and recovered panics. Default discards.
	Logger *slog.Logger
	// Now is the clock used to turn relative _exp values into absolute
	// expiry times, to hide expired documents, and for instance_start_time.
	// Default time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every default filled in except the
// credentials, which the caller must set.
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

// Validate reports whether c is usable (zero sizes count as defaults).
func (c Config) Validate() error {
	var errs []error
	if c.Username == "" {
		errs = append(errs, errors.New("username is required"))
	}
	if c.Password == "" {
		errs = append(errs, errors.New("password is required"))
	}
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

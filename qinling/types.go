package qinling

import (
	"encoding/json"
	"time"
)

// TimeFormat is how Qinling writes timestamps: UTC, to the second.
const TimeFormat = "2006-01-02 15:04:05"

// Time is a UTC timestamp that marshals in TimeFormat, and as null when
// zero (Qinling's updated_at of a record never updated).
type Time struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(TimeFormat))
}

// UnmarshalJSON implements json.Unmarshaler; it accepts null, TimeFormat
// and RFC 3339.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || *s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.ParseInLocation(TimeFormat, *s, time.UTC)
	if err != nil {
		if v, err = time.Parse(time.RFC3339Nano, *s); err != nil {
			return err
		}
	}
	t.Time = v.UTC()
	return nil
}

// NullString is a string that marshals as null when empty, as Qinling
// answers for an absent description, entry, input or result.
type NullString string

// MarshalJSON implements json.Marshaler.
func (s NullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// UnmarshalJSON implements json.Unmarshaler (null is "").
func (s *NullString) UnmarshalJSON(b []byte) error {
	var p *string
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = ""
	if p != nil {
		*s = NullString(*p)
	}
	return nil
}

// Caller is who makes a request: the project its token is scoped to, and
// whether it is the cluster's administrator. Every resource belongs to
// the project that created it; another project's resource is not found,
// except public runtimes, which every project sees.
type Caller struct {
	ProjectID string
	Admin     bool
}

// Runtime statuses.
const (
	RuntimeAvailable = "available"
	RuntimeError     = "error"
)

// Execution statuses.
const (
	ExecutionRunning = "running"
	ExecutionSuccess = "success"
	ExecutionFailed  = "failed"
)

// Code sources (FunctionCode.Source).
const (
	SourcePackage = "package"
	SourceImage   = "image"
	SourceSwift   = "swift"
)

// Runtime is a runtime as the API shows it. Status is this node's view:
// available when the engine its image selects can run code here, else
// error with StatusReason.
type Runtime struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Description  NullString `json:"description"`
	Image        string     `json:"image"`
	IsPublic     bool       `json:"is_public"`
	Trusted      bool       `json:"trusted"`
	ProjectID    string     `json:"project_id"`
	Status       string     `json:"status"`
	StatusReason string     `json:"status_reason,omitempty"`
	CreatedAt    Time       `json:"created_at"`
	UpdatedAt    Time       `json:"updated_at"`
}

// RuntimePool is GET /v1/runtimes/{id}/pool's body.
type RuntimePool struct {
	Name     string       `json:"name"`
	Capacity PoolCapacity `json:"capacity"`
}

// PoolCapacity is a runtime pool's warm-worker capacity.
type PoolCapacity struct {
	Total     int `json:"total"`
	Available int `json:"available"`
}

// Worker is one warm worker of a function version, as GET
// /v1/functions/{id}/workers lists them.
type Worker struct {
	FunctionID      string `json:"function_id"`
	FunctionVersion int    `json:"function_version"`
	WorkerName      string `json:"worker_name"`
}

// FunctionCode is a function's code object: source package (MD5Sum of
// the zip), or image (Image). Swift is refused (no object store).
type FunctionCode struct {
	Source string `json:"source"`
	MD5Sum string `json:"md5sum,omitempty"`
	Image  string `json:"image,omitempty"`
}

// Function is a function as the API shows it. Count is the number of its
// executions the cluster still holds (see Config.ExecutionRetention);
// LatestVersion is the number of its newest version (0: none).
type Function struct {
	ID            string       `json:"id"`
	Name          string       `json:"name"`
	Description   NullString   `json:"description"`
	RuntimeID     NullString   `json:"runtime_id"`
	Code          FunctionCode `json:"code"`
	Entry         NullString   `json:"entry"`
	Timeout       int          `json:"timeout"`
	MemorySize    int64        `json:"memory_size"`
	CPU           int64        `json:"cpu"`
	Count         int          `json:"count"`
	LatestVersion int          `json:"latest_version"`
	ProjectID     string       `json:"project_id"`
	CreatedAt     Time         `json:"created_at"`
	UpdatedAt     Time         `json:"updated_at"`
}

// Version is an immutable snapshot of a function's package and entry.
type Version struct {
	ID            string     `json:"id"`
	FunctionID    string     `json:"function_id"`
	VersionNumber int        `json:"version_number"`
	Description   NullString `json:"description"`
	Count         int        `json:"count"`
	ProjectID     string     `json:"project_id"`
	CreatedAt     Time       `json:"created_at"`
	UpdatedAt     Time       `json:"updated_at"`
}

// Alias names a function version; its name is unique in its project.
type Alias struct {
	Name            string     `json:"name"`
	FunctionID      string     `json:"function_id"`
	FunctionVersion int        `json:"function_version"`
	Description     NullString `json:"description"`
	ProjectID       string     `json:"project_id"`
	CreatedAt       Time       `json:"created_at"`
	UpdatedAt       Time       `json:"updated_at"`
}

// Execution is one run of a function. Input is the input as a JSON
// string (null: none); Result is {"duration": seconds, "output": ...} as a
// JSON string, null while running.
type Execution struct {
	ID              string     `json:"id"`
	FunctionID      string     `json:"function_id"`
	FunctionVersion int        `json:"function_version"`
	FunctionAlias   NullString `json:"function_alias"`
	Description     NullString `json:"description"`
	Sync            bool       `json:"sync"`
	Input           NullString `json:"input"`
	Result          NullString `json:"result"`
	Status          string     `json:"status"`
	ProjectID       string     `json:"project_id"`
	CreatedAt       Time       `json:"created_at"`
	UpdatedAt       Time       `json:"updated_at"`
}

// Webhook runs a function (or an alias's version) on an unauthenticated
// POST to WebhookURL.
type Webhook struct {
	ID              string     `json:"id"`
	FunctionID      string     `json:"function_id"`
	FunctionVersion int        `json:"function_version"`
	FunctionAlias   NullString `json:"function_alias"`
	Description     NullString `json:"description"`
	WebhookURL      string     `json:"webhook_url"`
	ProjectID       string     `json:"project_id"`
	CreatedAt       Time       `json:"created_at"`
	UpdatedAt       Time       `json:"updated_at"`
}

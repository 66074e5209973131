// Package containers runs Qinling's image functions (code source "image")
// as containers of the node's Docker engine: it implements qinling.Engine
// by talking to the Docker Engine API over HTTP (a unix socket or tcp), with
// no Docker SDK.
//
// Each Run is one container, as Qinling ran each image execution as one
// pod: created from the function's image (never pulled: a missing image
// fails the execution), with the input as its arguments, memory_size as
// its memory limit (swap included), cpu as its CPU quota, no network; then
// started, waited for up to the function's timeout (killed past it, with
// Qinling's "Function execution timeout."), its logs read and the
// container removed whatever happened. Containers are labelled
// LabelFunction and LabelExecution so that an operator can find any left
// by a crash.
//
// The input becomes arguments (appended to the image's entrypoint, as
// Kubernetes args are): none for no input; a JSON string (plain text) split
// on white space, as Qinling split its "__function_input"; an array's
// elements; an object's members as "--key=value" sorted by key (Qinling
// passed only an object's keys; we keep the values); any other value as
// its JSON text. Array elements and values that are not strings are passed
// as their JSON text.
//
// The output is the container's stdout, trimmed: as is when it is valid
// JSON, else as a JSON string. Qinling kept the whole pod log as the
// result's "logs" and had no output; here stderr is the execution's log,
// between the "Start execution" and "Finished execution" lines, and a
// failed run's stdout is appended to the log too. A non-zero exit status
// fails the execution.
//
// Containers are not kept warm, so Scale and Detach do nothing; Pool
// reports Config.MaxConcurrent and how many of those runs are free.
package containers

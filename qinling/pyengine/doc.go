// Package pyengine runs Qinling's Python functions in warm python3 worker
// processes: it implements qinling.Engine for the runtimes of the Python
// family.
//
// A function's package is unpacked once per code (function, version,
// digest, memory size) into a directory under Config.WorkDir; a bounded
// pool of long-lived `python3` processes per code imports the entry from
// there and runs one execution at a time, so module state persists across
// warm runs of one code and never leaks into another. The contract is
// Qinling's python runtime's: entry "module.function" (default main.main),
// the input object's keys as keyword arguments, print as the log between
// "Start execution: <id>" and "Finished execution: <id>", an exception's
// message as a failed execution's output. Timeouts kill the worker's
// process group; memory_size is an RLIMIT_AS the worker sets on itself
// before any user code runs. DESIGN.md describes the worker protocol.
package pyengine

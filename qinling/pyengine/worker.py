"""eventide pyengine worker: runs Qinling Python functions, one at a time.

Started by the Go engine as `python3 -u -B -E worker.py <pkgdir> <memory>
<logcap> <outcap>
<node pid>`. Requests arrive one JSON object per line on fd 3;
frames leave one JSON object per line on fd 4, so nothing user code
prints or reads can corrupt the protocol (stdin is /dev/null; fds 1 and 2
go to the node's log as stray output). See DESIGN.md beside this file.
"""

import importlib
import inspect
import json
import os
import resource
import sys
import threading
import time
import traceback

# Qinling's python runtime used these messages; clients match on them.
RESOURCE_ERROR = ("Function execution failed because of too much resource "
                  "consumption")

_out = os.fdopen(4, "wb")
_out_lock = threading.Lock()


def _frame(obj):
    line = json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n"
    with _out_lock:
        _out.write(line)
        _out.flush()


class _LogWriter(object):
    """sys.stdout/sys.stderr during one execution: text goes to the engine
    as log frames, at most cap bytes of it."""

    def __init__(self, cap):
        self._cap = cap
        self._sent = 0
        self._buf = []
        self._buflen = 0
        self.truncated = False
        self._lock = threading.Lock()

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" %
                            type(s).__name__)
        with self._lock:
            if self._sent + self._buflen >= self._cap:
                if s:
                    self.truncated = True
                return len(s)
            room = self._cap - self._sent - self._buflen
            if len(s) > room:
                self.truncated = True
                part = s[:room]
            else:
                part = s
            self._buf.append(part)
            self._buflen += len(part)
            # Flush whole lines promptly so a killed execution keeps its log.
            if "\n" in part or self._buflen >= 65536:
                self._flush_locked()
        return len(s)

    def _flush_locked(self):
        if self._buf:
            text = "".join(self._buf)
            self._buf = []
            self._sent += self._buflen
            self._buflen = 0
            _frame({"t": "log", "s": text})

    def flush(self):
        with self._lock:
            self._flush_locked()

    def isatty(self):
        return False

    def writable(self):
        return True

    @property
    def encoding(self):
        return "utf-8"


class _Stray(object):
    """sys.stdout/sys.stderr between executions (a user thread printing
    late): goes to fd 2, which the engine logs, never to an execution."""

    def write(self, s):
        os.write(2, s.encode("utf-8", "replace"))
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    @property
    def encoding(self):
        return "utf-8"


def _accepts_context(func):
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    for p in params:
        if p.kind == p.VAR_KEYWORD:
            return True
        if p.name == "context" and p.kind in (p.POSITIONAL_OR_KEYWORD,
                                              p.KEYWORD_ONLY):
            return True
    return False


def _call(entry, inp):
    module_name, _, func_name = entry.rpartition(".")
    module = importlib.import_module(module_name)
    func = getattr(module, func_name)
    # Qinling's contract: an object's keys are keyword arguments, and its
    # "__function_input" (the API's wrapping of a non-JSON string) is the
    # one positional argument; any other JSON value is that argument.
    arg = None
    kwargs = {}
    if isinstance(inp, dict):
        kwargs = dict(inp)
        arg = kwargs.pop("__function_input", None)
    elif inp is not None:
        arg = inp
    # Qinling always passed context={'os_session': ...}; passing it only to
    # functions that can take it keeps `def main(name)` working too.
    if _accepts_context(func):
        kwargs["context"] = {"os_session": None}
    if arg is not None:
        return func(arg, **kwargs)
    return func(**kwargs)


def _execute(req, log_cap, out_cap):
    writer = _LogWriter(log_cap)
    sys.stdout = writer
    sys.stderr = writer
    retire = False
    try:
        result = _call(req.get("entry") or "main.main", req.get("input"))
        try:
            output = json.dumps(result)
        except (TypeError, ValueError) as e:
            success, output = False, json.dumps(
                "Function output is not JSON serializable: %s" % e)
        else:
            success = True
    except MemoryError:
        # The heap may be fragmented or a library half-initialised: answer,
        # then let the engine start a fresh worker.
        retire = True
        success, output = False, json.dumps(RESOURCE_ERROR)
        try:
            traceback.print_exc()
        except MemoryError:
            pass
    except SystemExit as e:
        retire = True
        success, output = False, json.dumps(
            "Function exited with code %s" % (e.code,))
    except BaseException as e:
        traceback.print_exc()
        msg = str(e) or type(e).__name__
        success, output = False, json.dumps(msg)
    finally:
        sys.stdout = _STRAY
        sys.stderr = _STRAY
    writer.flush()
    if len(output) > out_cap:
        success = False
        output = json.dumps("Function output is larger than %d bytes" %
                            out_cap)
    # output is already JSON text; splice it so it is not re-encoded as a
    # string.
    head = json.dumps({"t": "result", "success": success, "retire": retire,
                       "truncated": writer.truncated},
                      separators=(",", ":"))
    line = (head[:-1] + ',"output":' + output + "}").encode("utf-8") + b"\n"
    with _out_lock:
        _out.write(line)
        _out.flush()
    return retire


_STRAY = _Stray()


def _vm_size():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _watch_parent(parent):
    """Exit when the node (pid parent) dies: a worker busy in a loop never
    reads the EOF on fd 3 that would otherwise end it."""
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(1)


def main():
    pkgdir, memory, log_cap, out_cap, parent = (
        sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
        int(sys.argv[5]))
    sys.stdout = _STRAY
    sys.stderr = _STRAY
    os.chdir(pkgdir)
    sys.path.insert(0, pkgdir)
    # A small stack for the watchdog, started before the memory limit is
    # measured, so it costs the function none of its budget.
    threading.stack_size(256 * 1024)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    threading.stack_size(0)
    if memory > 0:
        # memory_size is the function's budget on top of the interpreter's
        # own address space (about 20 MB), so a 32 MB function still starts.
        limit = _vm_size() + memory
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY and limit > hard:
            limit = hard
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    reqs = os.fdopen(3, "rb")
    _frame({"t": "ready", "pid": os.getpid(),
            "version": "%d.%d.%d" % sys.version_info[:3]})
    while True:
        line = reqs.readline()
        if not line:
            return
        req = json.loads(line)
        if _execute(req, log_cap, out_cap):
            return


if __name__ == "__main__":
    main()

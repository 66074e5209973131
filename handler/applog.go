package handler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AppLogTimeFormat is the timestamp layout of application log lines.
const AppLogTimeFormat = "2006-01-02T15:04:05.000-07:00"

// Couchbase's application log defaults.
const (
	// DefaultAppLogMaxSize is app_log_max_size's default (40 MiB).
	DefaultAppLogMaxSize = 40 << 20
	// DefaultAppLogMaxFiles is app_log_max_files's default.
	DefaultAppLogMaxFiles = 10
	// DefaultAppLogTailSize is /getAppLog's default size.
	DefaultAppLogTailSize = 40960
)

// AppLog is a function's application log: the lines handlers write with
// log(), plus the worker's own reports of uncaught exceptions and timeouts.
// It lives in <dir>/<functionName>.log; when a write would take the file past
// maxSize bytes the file is rotated to .1 (the older .1 to .2, and so on),
// keeping maxFiles files in all, the live one included. Workers share one
// AppLog; all methods are safe for concurrent use.
type AppLog struct {
	path     string
	maxSize  int64
	maxFiles int
	now      func() time.Time

	mu     sync.Mutex // guards everything below and the files on disk
	f      *os.File
	w      *bufio.Writer // over f: one write system call per many lines
	size   int64         // of the live file, buffered bytes included
	closed bool
	buf    []byte
	// flushing is set while a delayed flush is scheduled.
	flushing bool
}

// appLogFlushDelay bounds how long a line stays in the buffer: reads
// (Tail) flush first, so it only matters to readers of the files and to
// a crash, which may lose this much of the log (never any data).
const appLogFlushDelay = 200 * time.Millisecond

// OpenAppLog opens (creating dir and the file if needed, appending
// otherwise) the application log of functionName. maxSize (bytes) and
// maxFiles must be at least 1.
func OpenAppLog(dir, functionName string, maxSize int64, maxFiles int) (*AppLog, error) {
	if functionName == "" || functionName == "." || functionName == ".." ||
		strings.ContainsAny(functionName, `/\`) || strings.ContainsRune(functionName, 0) {
		return nil, fmt.Errorf("%w: function name %q cannot name a file", ErrInvalidAppLog, functionName)
	}
	if maxSize < 1 {
		return nil, fmt.Errorf("%w: max size must be at least 1 byte, got %d", ErrInvalidAppLog, maxSize)
	}
	if maxFiles < 1 {
		return nil, fmt.Errorf("%w: max files must be at least 1, got %d", ErrInvalidAppLog, maxFiles)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create app log dir %s: %w", dir, err)
	}
	l := &AppLog{
		path:     filepath.Join(dir, functionName+".log"),
		maxSize:  maxSize,
		maxFiles: maxFiles,
		now:      time.Now,
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path returns the live file's path.
func (l *AppLog) Path() string { return l.path }

// SetLimits changes the rotation limits, as when a function is deployed
// again with other app_log_max_size / app_log_max_files settings. They
// apply from the next write; rotated files beyond the new maxFiles are
// removed.
func (l *AppLog) SetLimits(maxSize int64, maxFiles int) error {
	if maxSize < 1 {
		return fmt.Errorf("%w: max size must be at least 1 byte, got %d", ErrInvalidAppLog, maxSize)
	}
	if maxFiles < 1 {
		return fmt.Errorf("%w: max files must be at least 1, got %d", ErrInvalidAppLog, maxFiles)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := maxFiles; i < l.maxFiles; i++ {
		if err := os.Remove(l.rotatedPath(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove rotated app log %s: %w", l.rotatedPath(i), err)
		}
	}
	l.maxSize, l.maxFiles = maxSize, maxFiles
	return nil
}

// open opens the live file for appending. Callers hold mu (or own l).
func (l *AppLog) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open app log %s: %w", l.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat app log %s: %w", l.path, err)
	}
	l.f, l.size = f, st.Size()
	if l.w == nil {
		l.w = bufio.NewWriterSize(f, 64<<10)
	} else {
		l.w.Reset(f)
	}
	return nil
}

// flushLocked writes the buffered lines to the file. Callers hold mu.
func (l *AppLog) flushLocked() error {
	if l.f == nil || l.w.Buffered() == 0 {
		return nil
	}
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("write app log %s: %w", l.path, err)
	}
	return nil
}

// Flush writes buffered lines to the file now.
func (l *AppLog) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

// rotatedPath is the path of the i-th rotated file (0 is the live one).
func (l *AppLog) rotatedPath(i int) string {
	if i == 0 {
		return l.path
	}
	return l.path + "." + strconv.Itoa(i)
}

// rotate shifts the files by one and starts an empty live file. Callers hold mu.
func (l *AppLog) rotate() error {
	if err := l.flushLocked(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close app log %s: %w", l.path, err)
	}
	l.f = nil
	if l.maxFiles == 1 {
		if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate app log %s: %w", l.path, err)
		}
	}
	// Renaming onto the oldest kept name drops the oldest file.
	for i := l.maxFiles - 1; i >= 1; i-- {
		err := os.Rename(l.rotatedPath(i-1), l.rotatedPath(i))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate app log %s: %w", l.path, err)
		}
	}
	return l.open()
}

// writeLocked writes p, rotating first if p would take the file past
// maxSize. Callers hold mu.
func (l *AppLog) writeLocked(p []byte) (int, error) {
	if l.closed {
		return 0, ErrAppLogClosed
	}
	if l.f == nil { // a failed rotation left no file; try again
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.w.Write(p)
	l.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write app log %s: %w", l.path, err)
	}
	if !l.flushing && l.w.Buffered() > 0 {
		l.flushing = true
		time.AfterFunc(appLogFlushDelay, func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.flushing = false
			if !l.closed {
				_ = l.flushLocked() // a failure shows on the next write or read
			}
		})
	}
	return n, nil
}

// Write appends p as is (callers supply whole lines, newline included).
func (l *AppLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writeLocked(p)
}

// WriteLine appends "<timestamp> [<level>] <msg>\n", the timestamp in
// AppLogTimeFormat taken under the lock so that file order is time order.
func (l *AppLog) WriteLine(level, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf[:0]
	b = l.now().AppendFormat(b, AppLogTimeFormat)
	b = append(b, " ["...)
	b = append(b, level...)
	b = append(b, "] "...)
	b = append(b, msg...)
	b = append(b, '\n')
	_, err := l.writeLocked(b)
	if cap(b) <= 64<<10 { // keep the buffer unless one huge line grew it
		l.buf = b
	}
	return err
}

// Printf formats a message and writes it with WriteLine.
func (l *AppLog) Printf(level, format string, args ...any) error {
	return l.WriteLine(level, fmt.Sprintf(format, args...))
}

// Tail returns up to the last size bytes of the log, taken across the live
// file and then the rotated ones, as whole lines, newest first, joined by
// "\n" (the /getAppLog response body). A line cut by the size limit is left
// out. size <= 0 gives "".
func (l *AppLog) Tail(size int) (string, error) {
	if size <= 0 {
		return "", nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.flushLocked(); err != nil {
		return "", err
	}
	remaining := int64(size)
	var out []string
	for i := 0; i < l.maxFiles && remaining > 0; i++ {
		data, whole, err := readTail(l.rotatedPath(i), remaining)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return "", err
		}
		remaining -= int64(len(data))
		if !whole {
			// data starts mid-file: drop the (possibly partial) first line.
			if j := bytes.IndexByte(data, '\n'); j >= 0 {
				data = data[j+1:]
			} else {
				data = nil
			}
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		for j := len(lines) - 1; j >= 0; j-- {
			if lines[j] != "" {
				out = append(out, lines[j])
			}
		}
	}
	return strings.Join(out, "\n"), nil
}

// readTail reads the last n bytes of a file. whole reports that the data
// starts at a line start: the file's beginning, or right after a newline.
func readTail(path string, n int64) (data []byte, whole bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("stat app log %s: %w", path, err)
	}
	start := max(st.Size()-n, 0)
	// Read one byte more to learn whether the cut falls on a line start.
	readFrom := max(start-1, 0)
	buf := make([]byte, st.Size()-readFrom)
	if _, err := f.ReadAt(buf, readFrom); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("read app log %s: %w", path, err)
	}
	if start == 0 {
		return buf, true, nil
	}
	return buf[1:], buf[0] == '\n', nil
}

// Close closes the log; later writes fail with ErrAppLogClosed.
func (l *AppLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.f == nil {
		return nil
	}
	ferr := l.flushLocked()
	err := l.f.Close()
	l.f = nil
	return errors.Join(ferr, err)
}

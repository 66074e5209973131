package handler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustOpenAppLog(t *testing.T, dir string, maxSize int64, maxFiles int) *AppLog {
	t.Helper()
	l, err := OpenAppLog(dir, "fn", maxSize, maxFiles)
	if err != nil {
		t.Fatalf("OpenAppLog: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// fileLines flushes l and returns the lines of one of its files.
func fileLines(t *testing.T, l *AppLog, path string) []string {
	t.Helper()
	if err := l.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestAppLog_RotationKeepsMaxFiles(t *testing.T) {
	dir := t.TempDir()
	l := mustOpenAppLog(t, dir, 100, 3)
	// Each line is 19 bytes: five fit in one file.
	for i := range 23 {
		if _, err := fmt.Fprintf(l, "line-%02d-padding-xx\n", i); err != nil {
			t.Fatal(err)
		}
	}
	base := filepath.Join(dir, "fn.log")
	if got := fileLines(t, l, base); len(got) != 3 || got[0] != "line-20-padding-xx" {
		t.Errorf("live file = %q", got)
	}
	if got := fileLines(t, l, base+".1"); len(got) != 5 || got[0] != "line-15-padding-xx" || got[4] != "line-19-padding-xx" {
		t.Errorf(".1 = %q", got)
	}
	if got := fileLines(t, l, base+".2"); len(got) != 5 || got[0] != "line-10-padding-xx" {
		t.Errorf(".2 = %q", got)
	}
	if _, err := os.Stat(base + ".3"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".3 exists (err %v); want at most 3 files", err)
	}
	for _, p := range []string{base, base + ".1", base + ".2"} {
		if st, _ := os.Stat(p); st.Size() > 100 {
			t.Errorf("%s is %d bytes, over the limit", p, st.Size())
		}
	}
}

func TestAppLog_TailNewestFirst(t *testing.T) {
	dir := t.TempDir()
	l := mustOpenAppLog(t, dir, 100, 3)
	for i := range 23 {
		fmt.Fprintf(l, "line-%02d-padding-xx\n", i)
	}
	all, err := l.Tail(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(all, "\n")
	// Lines 10..22 survive rotation; newest first.
	if len(lines) != 13 || lines[0] != "line-22-padding-xx" || lines[12] != "line-10-padding-xx" {
		t.Fatalf("Tail = %q", lines)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] >= lines[i-1] {
			t.Errorf("not newest first at %d: %q then %q", i, lines[i-1], lines[i])
		}
	}
	// Sizes on line boundaries keep the lines (the live file holds 3 lines,
	// 57 bytes); a size that cuts a line leaves the cut line out, also
	// across files.
	sizes := map[int]int{38: 2, 40: 2, 57: 3, 75: 3, 76: 4, 95: 5}
	for size, n := range sizes {
		got, err := l.Tail(size)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Join(lines[:n], "\n"); got != want {
			t.Errorf("Tail(%d) = %q, want %q", size, got, want)
		}
	}
	if s, _ := l.Tail(0); s != "" {
		t.Errorf("Tail(0) = %q", s)
	}
}

func TestAppLog_MaxFilesOne(t *testing.T) {
	dir := t.TempDir()
	l := mustOpenAppLog(t, dir, 30, 1)
	for i := range 4 {
		fmt.Fprintf(l, "entry-%d-abcdefghijk\n", i) // 20 bytes
	}
	if got := fileLines(t, l, l.Path()); len(got) != 1 || got[0] != "entry-3-abcdefghijk" {
		t.Errorf("live file = %q", got)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "fn.log.*"))
	if len(matches) != 0 {
		t.Errorf("rotated files with maxFiles=1: %v", matches)
	}
}

func TestAppLog_ConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	l := mustOpenAppLog(t, dir, 4096, 50)
	const writers, perWriter = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := l.WriteLine("INFO", fmt.Sprintf(`"w%d-%03d"`, w, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	all, err := l.Tail(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(all, "\n")
	if len(lines) != writers*perWriter {
		t.Fatalf("got %d lines, want %d", len(lines), writers*perWriter)
	}
	re := regexp.MustCompile(`^\S+ \[INFO\] "w\d-\d{3}"$`)
	seen := map[string]bool{}
	for i, line := range lines {
		if !re.MatchString(line) {
			t.Fatalf("torn line %q", line)
		}
		seen[line[strings.Index(line, "[")+7:]] = true
		// Timestamps are taken under the lock: newest first holds.
		if i > 0 && line[:29] > lines[i-1][:29] {
			t.Errorf("line %d is newer than line %d", i, i-1)
		}
	}
	if len(seen) != writers*perWriter {
		t.Errorf("%d distinct lines, want %d", len(seen), writers*perWriter)
	}
}

func TestAppLog_ReopenAppends(t *testing.T) {
	dir := t.TempDir()
	l1, err := OpenAppLog(dir, "fn", 1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	l1.WriteLine("INFO", "first")
	l1.Close()
	if err := l1.WriteLine("INFO", "closed"); !errors.Is(err, ErrAppLogClosed) {
		t.Errorf("write after Close = %v", err)
	}
	if err := l1.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	l2 := mustOpenAppLog(t, dir, 1<<20, 2)
	l2.Printf("ERROR", "second %d", 2)
	got, _ := l2.Tail(1 << 20)
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "[ERROR] second 2") || !strings.HasSuffix(lines[1], "[INFO] first") {
		t.Errorf("Tail = %q", lines)
	}
}

func TestOpenAppLog_Invalid(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		fn    string
		size  int64
		files int
	}{
		{"empty name", "", 10, 1},
		{"slash", "a/b", 10, 1},
		{"dotdot", "..", 10, 1},
		{"size", "fn", 0, 1},
		{"files", "fn", 10, 0},
	}
	for _, c := range cases {
		if _, err := OpenAppLog(dir, c.fn, c.size, c.files); !errors.Is(err, ErrInvalidAppLog) {
			t.Errorf("%s: err = %v, want ErrInvalidAppLog", c.name, err)
		}
	}
	// A directory that cannot be created.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := OpenAppLog(filepath.Join(file, "sub"), "fn", 10, 1); err == nil {
		t.Error("OpenAppLog under a file succeeded")
	}
}

func TestAppLog_SetLimits(t *testing.T) {
	dir := t.TempDir()
	l := mustOpenAppLog(t, dir, 1000, 4)
	base := filepath.Join(dir, "fn.log")
	if err := l.SetLimits(40, 4); err != nil {
		t.Fatal(err)
	}
	for i := range 12 { // 19-byte lines, 40-byte limit: files of two lines
		fmt.Fprintf(l, "line-%02d-padding-xx\n", i)
	}
	for _, p := range []string{base, base + ".1", base + ".2", base + ".3"} {
		if got := fileLines(t, l, p); len(got) != 2 {
			t.Errorf("%s = %q, want two lines", p, got)
		}
	}
	// Fewer files: the surplus rotated files go at once.
	if err := l.SetLimits(40, 2); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{base + ".2", base + ".3"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (err %v) with max files 2", p, err)
		}
	}
	fmt.Fprintf(l, "line-12-padding-xx\n")
	if got := fileLines(t, l, base); len(got) != 1 || got[0] != "line-12-padding-xx" {
		t.Errorf("live file = %q", got)
	}
	if _, err := os.Stat(base + ".2"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".2 exists after a rotation with max files 2 (err %v)", err)
	}
	for _, bad := range [][2]int{{0, 1}, {10, 0}} {
		if err := l.SetLimits(int64(bad[0]), bad[1]); !errors.Is(err, ErrInvalidAppLog) {
			t.Errorf("SetLimits(%d, %d) = %v, want ErrInvalidAppLog", bad[0], bad[1], err)
		}
	}
}

// Lines reach the file on their own shortly after they are written, and
// Tail sees them at once.
func TestAppLog_BufferedLinesReachTheFile(t *testing.T) {
	l := mustOpenAppLog(t, t.TempDir(), 1<<20, 2)
	if err := l.WriteLine("INFO", "hello"); err != nil {
		t.Fatal(err)
	}
	if tail, err := l.Tail(1024); err != nil || !strings.HasSuffix(tail, "[INFO] hello") {
		t.Fatalf("Tail = %q, %v", tail, err)
	}
	if err := l.WriteLine("INFO", "later"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(l.Path())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "[INFO] later") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("file after 5 s = %q, want the buffered line", data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

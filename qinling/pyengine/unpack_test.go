package pyengine

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawZip builds a zip whose entries are written as given, headers and all,
// so a test can make the ones a careful writer would not.
func rawZip(t *testing.T, entries ...*zip.FileHeader) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, h := range entries {
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(h.Comment)); err != nil {
			t.Fatal(err)
		}
		h.Comment = ""
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func file(name, body string) *zip.FileHeader {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Comment: body}
	h.SetMode(0o644)
	return h
}

func TestUnpack_Limits(t *testing.T) {
	link := &zip.FileHeader{Name: "link", Comment: "/etc/passwd"}
	link.SetMode(fs.ModeSymlink | 0o777)
	for _, tc := range []struct {
		name    string
		pkg     []byte
		maxB    int64
		maxF    int
		wantErr string
	}{
		{"fine", rawZip(t, file("a/b.py", "x = 1"), file("c.py", "y = 2")), 100, 10, ""},
		{"dot dot", rawZip(t, file("../x.py", "x")), 100, 10, "leaves the package"},
		{"nested dot dot", rawZip(t, file("a/../../x.py", "x")), 100, 10, "leaves the package"},
		{"absolute", rawZip(t, file("/tmp/x.py", "x")), 100, 10, "leaves the package"},
		{"backslash", rawZip(t, file(`..\x.py`, "x")), 100, 10, "leaves the package"},
		{"symlink", rawZip(t, link), 100, 10, "not a regular file"},
		{"duplicate", rawZip(t, file("a.py", "1"), file("a.py", "2")), 100, 10, "appears twice"},
		{"too many files", rawZip(t, file("a.py", ""), file("b.py", ""), file("c.py", "")), 100, 2, "3 entries, more than 2"},
		{"too big", rawZip(t, file("a.py", strings.Repeat("x", 60)), file("b.py", strings.Repeat("y", 60))), 100, 10, "exceeds 100 bytes"},
		{"not a zip", []byte("PK but not really"), 100, 10, "bad package"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "pkg")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			err := unpack(tc.pkg, dir, tc.maxB, tc.maxF)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b, err := os.ReadFile(filepath.Join(dir, "a", "b.py")); err != nil || string(b) != "x = 1" {
					t.Fatalf("a/b.py = %q, %v", b, err)
				}
				return
			}
			if !errors.Is(err, ErrBadPackage) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("unpack = %v, want ErrBadPackage with %q", err, tc.wantErr)
			}
			// Nothing escaped the package folder.
			entries, _ := os.ReadDir(root)
			if len(entries) != 1 {
				t.Fatalf("unpack wrote beside its folder: %v", entries)
			}
		})
	}
}

package jsengine

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// pkgFiles is a function package read into memory: file contents by
// absolute, cleaned path ("/main.js", "/lib/util.js"), the package's root
// being "/". It is immutable once read and shared by every runtime of a
// code key.
type pkgFiles map[string][]byte

// readPackage reads a zip package from memory, refusing more than
// maxFiles files or maxBytes of uncompressed content (counted as read, not
// as the headers claim), paths that leave the package, duplicates and
// symbolic links. Directory entries are skipped.
func readPackage(data []byte, maxFiles int, maxBytes int64) (pkgFiles, error) {
	if len(data) == 0 {
		return nil, errors.New("the function has no package")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("the function package is not a valid zip archive: %w", err)
	}
	files := make(pkgFiles)
	var total int64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		name, err := packagePath(f.Name)
		if err != nil {
			return nil, err
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("the function package holds a symbolic link, %q: not supported", f.Name)
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("the function package holds %q twice", f.Name)
		}
		if len(files) >= maxFiles {
			return nil, fmt.Errorf("the function package holds more than %d files", maxFiles)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("the function package's file %q cannot be read: %w", f.Name, err)
		}
		// Read one byte past what is left of the budget, to tell "exactly
		// at the limit" from "over it" whatever the header claims.
		b, err := io.ReadAll(io.LimitReader(rc, maxBytes-total+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("the function package's file %q cannot be read: %w", f.Name, err)
		}
		total += int64(len(b))
		if total > maxBytes {
			return nil, fmt.Errorf("the function package unpacks to more than %d bytes", maxBytes)
		}
		files[name] = b
	}
	return files, nil
}

// packagePath turns a zip entry's name into the file's path in the
// package, refusing absolute paths, backslashes (Windows separators that
// other unzippers treat as such) and any ".." that would leave the root.
func packagePath(name string) (string, error) {
	bad := func() (string, error) {
		return "", fmt.Errorf("the function package's file %q has a path outside the package", name)
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || strings.ContainsRune(name, 0) {
		return bad()
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return bad()
		}
	}
	return path.Clean("/" + name), nil
}

package pyengine

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// errTooBig means a file ran past what is left of the size limit.
var errTooBig = errors.New("pyengine: package too big")

// unpack extracts the zip pkg into dir (which must exist and be empty).
// It refuses entries that would land outside dir, links and devices, more
// than maxFiles entries, and more than maxBytes of content (counted as
// written, not as the headers claim).
func unpack(pkg []byte, dir string, maxBytes int64, maxFiles int) error {
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadPackage, err)
	}
	if len(zr.File) > maxFiles {
		return fmt.Errorf("%w: %d entries, more than %d", ErrBadPackage, len(zr.File), maxFiles)
	}
	budget := maxBytes
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, "/")
		if name == "" || name == "." {
			continue
		}
		if strings.Contains(name, `\`) || !filepath.IsLocal(name) {
			return fmt.Errorf("%w: entry %q leaves the package", ErrBadPackage, f.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
			continue
		case !mode.IsRegular():
			return fmt.Errorf("%w: entry %q is not a regular file", ErrBadPackage, f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("unpack %s: %w", f.Name, err)
		}
		n, err := extract(f, dst, budget)
		if errors.Is(err, errTooBig) {
			return fmt.Errorf("%w: unpacked content exceeds %d bytes", ErrBadPackage, maxBytes)
		}
		if err != nil {
			return err
		}
		budget -= n
	}
	return nil
}

// extract writes one file of at most budget bytes.
func extract(f *zip.File, dst string, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrBadPackage, f.Name, err)
	}
	defer rc.Close()
	perm := fs.FileMode(0o644)
	if f.Mode()&0o111 != 0 {
		perm = 0o755
	}
	// O_EXCL: a second entry of the same name is refused, not merged.
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("%w: entry %q appears twice", ErrBadPackage, f.Name)
		}
		return 0, fmt.Errorf("unpack %s: %w", f.Name, err)
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, fmt.Errorf("%w: %s: %v", ErrBadPackage, f.Name, err)
		}
		return n, fmt.Errorf("unpack %s: %w", f.Name, err)
	}
	if n > budget {
		return n, errTooBig
	}
	return n, nil
}

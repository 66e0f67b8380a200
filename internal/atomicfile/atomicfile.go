// Package atomicfile writes files so that readers never see a partial
// result and secrets are never readable by others, not even for an instant.
//
// Every write goes to a temporary file created with O_EXCL and mode 0600 in
// the destination directory, is synced, and is then renamed over the
// destination. A failed write removes the temporary file and leaves the
// destination untouched.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned by WriteFile when the destination exists and
// overwrite was not requested.
var ErrExists = errors.New("file already exists")

// WriteFile atomically writes data to name with the given permission bits.
// If overwrite is false and name already exists, it returns an error
// wrapping ErrExists and writes nothing.
func WriteFile(name string, data []byte, perm fs.FileMode, overwrite bool) error {
	return Write(name, perm, overwrite, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Write is like WriteFile but lets fill stream the content into the
// temporary file. If fill returns an error, nothing is left behind.
func Write(name string, perm fs.FileMode, overwrite bool, fill func(*os.File) error) (err error) {
	dir := filepath.Dir(name)
	if !overwrite {
		if _, err := os.Lstat(name); err == nil {
			return fmt.Errorf("%s: %w", name, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	// CreateTemp uses 0600; narrow further or widen only if asked.
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if !overwrite {
		// Link fails if name appeared meanwhile, so a concurrent writer
		// is never clobbered.
		if err = os.Link(tmpName, name); err != nil {
			if errors.Is(err, fs.ErrExist) {
				err = fmt.Errorf("%s: %w", name, ErrExists)
			}
			return err
		}
		os.Remove(tmpName)
		return nil
	}
	return os.Rename(tmpName, name)
}

// MkdirPrivate creates dir and any missing parents with mode 0700.
// An existing directory is accepted as it is.
func MkdirPrivate(dir string) error {
	return os.MkdirAll(dir, 0o700)
}

// Exists reports whether name exists (as anything, even a dangling link).
func Exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// Remove removes name, ignoring a missing file.
func Remove(name string) {
	_ = os.Remove(name)
}

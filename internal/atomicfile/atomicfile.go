// Package atomicfile writes files so that a reader, or the file system
// after a crash, finds either the old content or the new one in full,
// never a part of it.
//
// The content goes to a temporary file in the same directory (a rename
// is atomic only within one file system), which is synced and renamed
// over the target; then the directory is synced, since until then the
// rename itself may be lost in a crash. The temporary file is made with
// mode 0600 and given its final mode only once written, so that secrets
// are never readable by others, even for a moment.
package atomicfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with what write writes, with mode perm (exactly:
// the umask does not apply). If anything fails, path is as it was and no
// temporary file is left; the error says which step failed. An error from
// syncing the directory comes after the rename, when path already holds
// the new content but a crash could still undo it.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close() // may be closed already; the error matters no more
			_ = os.Remove(f.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Create is [Write] for a path that must not exist: if it does, Create
// fails with an error matching [fs.ErrExist] and leaves it alone.
//
// The name is first taken with O_EXCL, as an empty file, and then
// replaced as by Write, so a crash in between leaves an empty file at
// path, never a partial one. On any failure the file is removed again.
func Create(path string, perm fs.FileMode, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm&0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := Write(path, perm, write); err != nil {
		// The caller takes the file as not created, so it must not
		// stay, even if only syncing the directory failed.
		_ = os.Remove(path)
		return err
	}
	return nil
}

// SyncDir syncs dir, making the files created and renamed in it durable:
// for callers that create files in place, such as an append-only log.
func SyncDir(dir string) error { return syncDir(dir) }

// syncDir syncs dir, making the renames in it durable. A variable so that
// tests can see it called, and make it fail.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

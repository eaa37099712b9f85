package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockedError is returned by [Open] when another process holds the data
// directory of an embedded store. The store was not touched.
type LockedError struct {
	Dir   string
	PID   int       // 0 if the holder has not written it yet
	Since time.Time // when the holder took the lock; zero if unknown
}

// Error implements the error interface with a message an operator can act on.
func (e *LockedError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
	}
	if !e.Since.IsZero() {
		who += " (since " + e.Since.Format(time.RFC3339) + ")"
	}
	return fmt.Sprintf("catalog: data directory %s is in use by %s; stop it first", e.Dir, who)
}

// errLocked is what tryLock returns when someone else holds the lock.
var errLocked = errors.New("locked")

// dirLock is an exclusive advisory lock on dir/LOCK, held for the life of
// an embedded store. The kernel drops it when the process dies, however it
// dies, so a crash never leaves a stale lock behind.
type dirLock struct {
	f *os.File
}

func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("catalog: create data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("catalog: open lock file: %w", err)
	}
	if err := tryLock(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLocked) {
			return nil, lockHolder(dir, f)
		}
		return nil, fmt.Errorf("catalog: lock data directory %s: %w", dir, err)
	}
	holder := fmt.Sprintf("%d %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(holder), 0)
		if err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("catalog: write lock file: %w", err)
	}
	return &dirLock{f: f}, nil
}

// lockHolder reads who holds the lock; a holder that has not yet written
// its line is reported without details.
func lockHolder(dir string, f *os.File) *LockedError {
	e := &LockedError{Dir: dir}
	b := make([]byte, 128)
	n, _ := f.ReadAt(b, 0)
	fields := strings.Fields(string(b[:n]))
	if len(fields) >= 1 {
		e.PID, _ = strconv.Atoi(fields[0])
	}
	if len(fields) >= 2 {
		e.Since, _ = time.Parse(time.RFC3339, fields[1])
	}
	return e
}

func (l *dirLock) release() error {
	// Closing the descriptor releases the lock; the file stays, so that the
	// next holder can take it without racing on its creation.
	return l.f.Close()
}

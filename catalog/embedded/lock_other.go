//go:build !unix

package embedded

import "os"

// tryLock does not lock on systems without flock: two processes must not
// share a data directory there.
func tryLock(*os.File) error { return nil }

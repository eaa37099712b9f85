//go:build unix

package main

import "syscall"

// raiseFileLimit raises this process's soft limit of open files to its
// hard limit, and returns the limit now in force: every simulated device
// is a socket. (Go raises it too at start, but says nothing of it, and
// not for every way the program may be started.)
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return uint64(l.Cur), nil
}

//go:build unix

package recovery

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f (flock(2)), waiting for it.
func lockFile(f *os.File) error { return flock(int(f.Fd()), syscall.LOCK_EX) }

// unlockFile releases lockFile's lock.
func unlockFile(f *os.File) error { return flock(int(f.Fd()), syscall.LOCK_UN) }

// flock retries an interrupted flock(2).
func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// tryLockFile takes the lock only if it is free at once (and gives it
// back): whether another holder has it.
func tryLockFile(f *os.File) (bool, error) {
	err := flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == syscall.EWOULDBLOCK {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, unlockFile(f)
}

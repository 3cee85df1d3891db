//go:build windows

package recovery

import (
	"os"

	"golang.org/x/sys/windows"
)

// Windows byte-range locks are mandatory: a locked byte of the journal
// could not be read by anyone else while a record is appended (the
// dashboard's poll, `flyrescue log`). So the lock is on one byte far past
// any journal's end, where no read goes, as SQLite locks its pending byte.
const lockOffsetHigh = 1 << 30 // byte 2^62

// lockRange is the locked byte's position, for one call: the system keeps
// a pointer to it until the call returns.
func lockRange() *windows.Overlapped { return &windows.Overlapped{OffsetHigh: lockOffsetHigh} }

// lockFile takes an exclusive lock on f, waiting for it.
func lockFile(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, lockRange())
}

// unlockFile releases lockFile's lock.
func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockRange())
}

// tryLockFile takes the lock only if it is free at once (and gives it
// back): whether another holder has it.
func tryLockFile(f *os.File) (bool, error) {
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, lockRange())
	if err == windows.ERROR_LOCK_VIOLATION {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, unlockFile(f)
}

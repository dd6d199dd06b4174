package checkpoint

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// Windows errors a rename over a file that another process holds open returns.
const (
	errAccessDenied     = syscall.ERROR_ACCESS_DENIED
	errSharingViolation = syscall.Errno(32) // ERROR_SHARING_VIOLATION
)

// replaceFor bounds how long replace retries: a virus scanner, a backup agent or an admin's
// editor opening the checkpoint holds it for moments, not seconds.
const replaceFor = 2 * time.Second

// replace renames from over to. os.Rename is MoveFileEx with MOVEFILE_REPLACE_EXISTING, which
// replaces an existing file, but fails while any process has it open without
// FILE_SHARE_DELETE; it is tried again for up to replaceFor (as the go command's own
// robustio does on Windows), then the error goes back to the caller, and the input saves
// again at its next page.
func replace(from, to string) error {
	deadline := time.Now().Add(replaceFor)
	wait := 10 * time.Millisecond
	for {
		err := os.Rename(from, to)
		if err == nil || !(errors.Is(err, errAccessDenied) || errors.Is(err, errSharingViolation)) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// syncDir does nothing on Windows: FlushFileBuffers needs a handle open for writing, which a
// directory opened by os.Open is not, so Sync fails with "Access is denied" on every save
// (golang/go#75541; wine answers the same). NTFS journals the rename's metadata itself, and
// the checkpoint's own bytes were flushed before the rename.
func syncDir(string) error { return nil }

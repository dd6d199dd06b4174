//go:build !windows

package checkpoint

import "os"

// replace renames from over to: one atomic step on POSIX systems, whoever has to open.
func replace(from, to string) error { return os.Rename(from, to) }

// syncDir fsyncs a directory, so a rename in it survives a power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil // nothing to sync through; the rename itself succeeded
	}
	err = d.Sync()
	d.Close()
	return err
}

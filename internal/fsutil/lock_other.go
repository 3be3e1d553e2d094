//go:build !unix && !windows

package fsutil

import "os"

const lockOpenFlags = 0

// lockFile takes no lock: this system has no advisory file locks Go can use.
func lockFile(*os.File) error { return nil }

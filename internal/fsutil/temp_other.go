//go:build !unix

package fsutil

import "io/fs"

// staleTemp: without a portable way to tell a live process or a file's
// owner, no temporary file is taken for stale.
func staleTemp(fs.FileInfo, int) bool { return false }

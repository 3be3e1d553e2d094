//go:build !unix

package fsutil

import "io/fs"

// Umask is 0 where there is none: Windows keeps no Unix permissions.
func Umask() fs.FileMode { return 0 }

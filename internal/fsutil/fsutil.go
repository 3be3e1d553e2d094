// Package fsutil holds the file-system helpers that geoloc's writers share:
// the permissions a new file or directory gets from the umask, as
// os.Create and os.Mkdir would give them, and an advisory lock on a file.
package fsutil

import "io/fs"

// FileMode is the mode os.Create gives a new file: 0666 less the umask.
func FileMode() fs.FileMode { return 0o666 &^ Umask() }

// DirMode is the mode os.Mkdir(name, 0o777) gives a new directory: 0777
// less the umask.
func DirMode() fs.FileMode { return 0o777 &^ Umask() }

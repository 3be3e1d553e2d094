//go:build !unix

package candidates

import "errors"

// mapFile is not done here: OpenMMDB lets maxminddb open the file.
func mapFile(string) ([]byte, func() error, error) { return nil, nil, errors.ErrUnsupported }

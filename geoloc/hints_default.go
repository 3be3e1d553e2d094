package geoloc

import (
	"sync"

	"github.com/geoloc-dev/geoloc/rdns"
)

// defaultReader is the reader of the embedded conventions, shared by every
// Engine without Options.Reader (it caches abbreviation candidates).
var defaultReader = sync.OnceValue(func() *rdns.Reader { return rdns.NewReader() })

// hintsOf reads the location hints of a router name: Options.Hints when
// set, else the engine's reader.
func (e *Engine) hintsOf(name string) []rdns.Hint {
	if e.opts.Hints != nil {
		return e.opts.Hints(name)
	}
	return e.names.Load().Hints(name)
}

// codesOf lists the words of a name that look like location codes no
// dictionary or convention read, for reading within a hop's feasible
// region (nil with Options.Hints and no Options.Reader: a custom reader).
func (e *Engine) codesOf(name string) []rdns.CodeLabel {
	r := e.names.Load()
	if r == nil {
		return nil
	}
	return r.Codes(name)
}

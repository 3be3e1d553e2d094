package output

import (
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
)

func stylesLines(tr *geoloc.TraceResult) []style.Line { return style.Lines(tr) }

package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/geoloc-dev/geoloc/traceroute"
)

func init() {
	register.DoFn4x1[context.Context, fileio.ReadableFile, func(Record), func(string), error](&readFn{})
	register.Emitter1[Record]()
	register.Emitter1[string]()
}

// Read is the read stage: every file matching the globs (any Beam
// filesystem), in any format traceroute.Read knows, gzip, bzip2 or zstd
// compressed or not (recognised by content, as regeo does), one Record per
// trace. Bad records and unreadable files go to dead, one line each
// ("FILE:LINE: FORMAT: what is wrong"), counted in bad_records; good
// traces are counted in traces_read. A glob matching nothing is an error of
// the run, as a missing file is for regeo.
func Read(s beam.Scope, format string, globs ...string) (traces, dead beam.PCollection) {
	s = s.Scope("read")
	files := fileio.MatchAll(s, beam.Create(s, anySlice(globs)...), fileio.MatchEmptyDisallow())
	// Files are read whole, by traceroute.Read's own sniffing and
	// decompression: compressed streams cannot be split, and text formats
	// hold one trace over many lines.
	readable := fileio.ReadMatches(s, files, fileio.ReadUncompressed())
	traces, dead = beam.ParDo2(s, &readFn{Format: format}, readable)
	// A day of RIPE Atlas comes as a few large files: spread their traces
	// over every worker before the costly stages.
	return beam.Reshuffle(s, traces), dead
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

type readFn struct {
	Format string `json:"format"`

	read beam.Counter
	bad  beam.Counter
}

func (f *readFn) Setup() {
	f.read = beam.NewCounter(counterNS, "traces_read")
	f.bad = beam.NewCounter(counterNS, "bad_records")
}

func (f *readFn) ProcessElement(ctx context.Context, file fileio.ReadableFile, emit func(Record), dead func(string)) error {
	name := file.Metadata.Path
	rc, err := openRead(ctx, name)
	if err != nil {
		f.bad.Inc(ctx, 1)
		dead(err.Error())
		return nil
	}
	defer rc.Close()
	n := 0
	for t, err := range traceroute.Read(rc, traceroute.ReadOptions{Format: f.Format, Input: name}) {
		if err != nil {
			f.bad.Inc(ctx, 1)
			dead(deadLine(err))
			continue
		}
		n++
		f.read.Inc(ctx, 1)
		emit(Record{ID: fmt.Sprintf("%s#%d", name, n), Trace: t})
	}
	return ctx.Err()
}

// deadLine is the one-line dead letter of a bad record: the reader's own
// "FILE:LINE: FORMAT: what" message, with the hint regeo gives for an
// input whose format is not recognised.
func deadLine(err error) string {
	var pe *traceroute.ParseError
	if errors.Is(err, traceroute.ErrUnknownFormat) && errors.As(err, &pe) {
		e := *pe
		e.Err = fmt.Errorf("%w (use --input-format; known: %v)", traceroute.ErrUnknownFormat, traceroute.Formats())
		return e.Error()
	}
	return err.Error()
}

const counterNS = "geoloc"

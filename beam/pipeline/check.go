package pipeline

import (
	"context"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn2x1[context.Context, []byte, error](&checkDBsFn{})
}

// CheckDBs opens the databases once in the run, on one worker, and
// reports what regeo warns about when it opens them: the bad lines of a
// geofeed, skipped (RFC 8805 §3), one warning line per geofeed in the
// worker's log ("feed.csv: skipped 3 bad lines (first: feed.csv:7: ...)")
// and their number in the counter geofeed_skipped_lines. Every worker
// skips the same lines; this stage counts them once.
func CheckDBs(s beam.Scope, c Config) {
	s = s.Scope("check-dbs")
	beam.ParDo0(s, &checkDBsFn{Config: c}, beam.Impulse(s))
}

type checkDBsFn struct {
	Config Config `json:"config"`
}

func (f *checkDBsFn) ProcessElement(ctx context.Context, _ []byte) error {
	w, err := workerFor(ctx, f.Config)
	if err != nil {
		return err
	}
	for _, l := range w.skips {
		log.Warn(ctx, l)
	}
	beam.NewCounter(counterNS, "geofeed_skipped_lines").Inc(ctx, int64(w.skipped))
	return nil
}

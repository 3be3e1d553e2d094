package pipeline

import (
	"encoding/json"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Record is one trace read from the input.
type Record struct {
	// ID names the trace uniquely in the run: "INPUT#N", the N-th trace
	// read from INPUT.
	ID    string            `json:"id"`
	Trace *traceroute.Trace `json:"trace"`
}

// AddrFused is the fused summary of one address, on its way to a trace
// that shows the address.
type AddrFused struct {
	Addr  string       `json:"addr"`
	Fused geoloc.Fused `json:"fused"`
}

// Summary is what the aggregates take from one located trace: its
// destination and its row of the countries-crossed report
// (output.BuildReport of the trace alone: the library's own rule for which
// countries and organisations a trace crossed).
type Summary struct {
	Destination   string            `json:"destination"`
	Countries     []output.Exposure `json:"countries,omitempty"`
	Organisations []output.Exposure `json:"organisations,omitempty"`
}

// Tally is the aggregate of one country or organisation over traces.
type Tally struct {
	Name    string  `json:"name"`
	Traces  int     `json:"traces"`
	Hops    int     `json:"hops"`
	ConfSum float64 `json:"conf_sum"` // confidence × hops, summed
	Dests   int     `json:"dests"`    // distinct destinations (0 per pair)
}

// ReportRow is one row of the aggregate report on its way to the file.
type ReportRow struct {
	Organisation bool            `json:"organisation"` // else a country
	Exposure     output.Exposure `json:"exposure"`
}

func init() {
	// Every element type gets an explicit JSON coder: the engine's own
	// JSON names (netip.Addr as text, float32 RTTs and float64
	// coordinates exactly round-tripped), so that a value crossing a
	// shuffle is the value that went in.
	registerJSON[Record]()
	registerJSON[AddrFused]()
	registerJSON[Summary]()
	registerJSON[Tally]()
	registerJSON[ReportRow]()
	registerJSON[geoloc.Fused]()
	registerJSON[geoloc.Votes]()
	registerJSON[geoloc.NameObservation]()
}

func registerJSON[T any]() {
	beam.RegisterCoder(reflect.TypeFor[T](),
		func(v T) ([]byte, error) { return json.Marshal(v) },
		func(b []byte) (T, error) {
			var v T
			err := json.Unmarshal(b, &v)
			return v, err
		})
}

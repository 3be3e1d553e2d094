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
	// shuffle is the value that went in. Each coder is a pair of named
	// top-level functions: a worker finds a coder's functions by their
	// symbol names, and the closures of one generic function share a name
	// across its instantiations (a worker on Prism, Flink, Spark or
	// Dataflow decoded one type with another's function:
	// TestSameAnswersOnPrism).
	beam.RegisterCoder(reflect.TypeFor[Record](), encRecord, decRecord)
	beam.RegisterCoder(reflect.TypeFor[AddrFused](), encAddrFused, decAddrFused)
	beam.RegisterCoder(reflect.TypeFor[LocateInput](), encLocateInput, decLocateInput)
	beam.RegisterCoder(reflect.TypeFor[Summary](), encSummary, decSummary)
	beam.RegisterCoder(reflect.TypeFor[Tally](), encTally, decTally)
	beam.RegisterCoder(reflect.TypeFor[ReportRow](), encReportRow, decReportRow)
	beam.RegisterCoder(reflect.TypeFor[geoloc.Fused](), encFused, decFused)
	beam.RegisterCoder(reflect.TypeFor[geoloc.Votes](), encVotes, decVotes)
	beam.RegisterCoder(reflect.TypeFor[geoloc.NameObservation](), encNameObservation, decNameObservation)
}

func encRecord(v Record) ([]byte, error)                          { return json.Marshal(v) }
func decRecord(b []byte) (Record, error)                          { return decodeJSON[Record](b) }
func encAddrFused(v AddrFused) ([]byte, error)                    { return json.Marshal(v) }
func decAddrFused(b []byte) (AddrFused, error)                    { return decodeJSON[AddrFused](b) }
func encLocateInput(v LocateInput) ([]byte, error)                { return json.Marshal(v) }
func decLocateInput(b []byte) (LocateInput, error)                { return decodeJSON[LocateInput](b) }
func encSummary(v Summary) ([]byte, error)                        { return json.Marshal(v) }
func decSummary(b []byte) (Summary, error)                        { return decodeJSON[Summary](b) }
func encTally(v Tally) ([]byte, error)                            { return json.Marshal(v) }
func decTally(b []byte) (Tally, error)                            { return decodeJSON[Tally](b) }
func encReportRow(v ReportRow) ([]byte, error)                    { return json.Marshal(v) }
func decReportRow(b []byte) (ReportRow, error)                    { return decodeJSON[ReportRow](b) }
func encFused(v geoloc.Fused) ([]byte, error)                     { return json.Marshal(v) }
func decFused(b []byte) (geoloc.Fused, error)                     { return decodeJSON[geoloc.Fused](b) }
func encVotes(v geoloc.Votes) ([]byte, error)                     { return json.Marshal(v) }
func decVotes(b []byte) (geoloc.Votes, error)                     { return decodeJSON[geoloc.Votes](b) }
func encNameObservation(v geoloc.NameObservation) ([]byte, error) { return json.Marshal(v) }
func decNameObservation(b []byte) (geoloc.NameObservation, error) {
	return decodeJSON[geoloc.NameObservation](b)
}

func decodeJSON[T any](b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

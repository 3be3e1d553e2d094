package pipeline

import (
	"errors"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Job is one run of the pipeline.
type Job struct {
	Config
	// Inputs are files or globs of saved traceroutes (any Beam
	// filesystem: local paths, gs://, s3://).
	Inputs []string
	// Output is the prefix of the files written: PREFIX-SSSSS-of-NNNNN.jsonl
	// (results), PREFIX-report.json (aggregates), PREFIX-errors.txt (dead
	// letters, when any).
	Output string
	// Shards is the number of JSON Lines shards; 0 means 4.
	Shards int
}

// Build adds the whole pipeline to s: read, first pass, fuse, learn,
// join, locate, write.
func Build(s beam.Scope, j Job) error {
	if len(j.Inputs) == 0 {
		return errors.New("no input: give --input GLOB")
	}
	if j.Output == "" {
		return errors.New("no output: give --output PREFIX")
	}
	shards := j.Shards
	if shards <= 0 {
		shards = 4
	}
	CheckDBs(s, j.Config)
	traces, badRecords := Read(s, j.InputFormat, j.Inputs...)
	obs, votes, names := FirstPass(s, j.Config, traces)
	fused, summed := Fuse(s, obs, votes)
	var learned beam.PCollection
	if j.NoLearn {
		learned = beam.CreateList(s, []string{})
	} else {
		learned = Learn(s, j.Config, names)
	}
	byID, addrNeeds, voteNeeds := Keys(s, traces)
	addrFused, votesByTrace := Join(s, fused, summed, addrNeeds, voteNeeds)
	lines, summaries, failed := Locate(s, j.Config, shards, byID, addrFused, votesByTrace, learned)
	WriteShards(s, j.Output, shards, lines)
	Aggregate(s, j.Output, summaries)
	WriteDeadLetters(s, j.Output, badRecords, failed)
	return nil
}

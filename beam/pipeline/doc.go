// Package pipeline is `geoloc regeo --fuse` as an Apache Beam pipeline: the
// same two-pass algorithm, each pass a set of named transforms a runner
// (the direct runner or Prism on one machine; Dataflow, Flink or Spark
// through the portable runner) spreads over as many workers as it likes.
//
//	check-dbs the databases opened once on one worker: a geofeed's skipped
//	         bad lines are warned about and counted, as regeo warns.
//	read     files or globs (Beam filesystems: local, gs://, s3://), any
//	         format traceroute.Read knows, compressed or not → one Record per
//	         trace; bad records → dead letters "FILE:LINE: FORMAT: what".
//	first    Engine.FirstPassOf per trace (the base conventions only, as
//	         regeo's first pass): observations, votes, router names.
//	fuse     observations combined per address (geoloc.Fused.Merge) and
//	         votes per source (geoloc.Votes.Merge), both combiners.
//	learn    router names grouped by domain suffix (rdns.Learner.Domain),
//	         one learner per domain, merged into one conventions set: a side
//	         input, small (what was learned, not what was seen).
//	join     each trace with the fused summaries of its own addresses and
//	         the votes of its own source, by CoGroupByKey (never a side input
//	         of every address: memory per worker stays flat).
//	locate   Engine.LocateFused per trace with the base conventions plus the
//	         learned ones (regeo's second pass); databases opened once per
//	         worker process.
//	write    JSON Lines shards PREFIX-SSSSS-of-NNNNN.jsonl (one result per
//	         line, as regeo writes them), PREFIX-report.json (traces crossing
//	         each country and network), PREFIX-errors.txt (dead letters).
//
// What the first pass keeps does not depend on the order of the traces, so
// the pipeline gives the answers `geoloc regeo --fuse` gives on one machine
// (TestSameAnswersAsRegeo).
//
// Counters (namespace "geoloc"): traces_read, bad_records (read stage);
// fuse_observations and fuse_shuffle_bytes (what the first pass hands the
// group-by-address shuffle: one observation each, its key and value in the
// JSON coder's bytes, before any combining), fuse_addresses (distinct
// addresses with a fused summary); traces_located, traces_failed (the
// engine refused the trace: a dead letter), hops, hops_located and
// hops_by_method_<method> (locate stage; "none" for hops not placed);
// geofeed_skipped_lines (check-dbs: the bad lines of the geofeeds given as
// databases, skipped as regeo skips them; each geofeed's summary is a
// warning in the worker's log).
package pipeline

package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/output"
)

func init() {
	// By reflection: register's generic wrappers cannot type a StartBundle
	// that takes a side input.
	beam.RegisterType(reflect.TypeFor[locateFn]())
	register.Function5x0(packTrace)
	register.Emitter1[LocateInput]()
	register.Iter1[string]()
	register.Iter1[Record]()
	register.Iter1[AddrFused]()
	register.Emitter2[int, string]()
	register.Emitter1[Summary]()
}

// Locate is the locate stage: every trace (byID) with the fused summaries
// of its addresses and the votes of its source (Join), located by
// geoloc.Engine.LocateFused with the base conventions and the learned ones
// (regeo --fuse's second pass). lines are the results as JSON Lines keyed
// by output shard (of shards); summaries feed the aggregates; traces the
// engine refuses go to dead.
func Locate(s beam.Scope, c Config, shards int, byID, addrFused, votesByTrace, learned beam.PCollection) (lines, summaries, dead beam.PCollection) {
	s = s.Scope("locate")
	joined := beam.CoGroupByKey(s, byID, addrFused, votesByTrace)
	// The trace and its share of the first pass are packed into one
	// element before the locate DoFn: a DoFn whose StartBundle takes a
	// side input must have a single main input, for a worker of a
	// portable runner reads its signature without knowing the CoGBK
	// (graph.AsDoFn with MainUnknown refused locateFn on Prism).
	packed := beam.ParDo(s, packTrace, joined)
	return beam.ParDo3(s, &locateFn{Config: c, Shards: shards}, packed, beam.SideInput{Input: learned})
}

// LocateInput is one trace with its share of the first pass: the fused
// summaries of its addresses and the votes of its source.
type LocateInput struct {
	Record Record        `json:"record"`
	Addrs  []AddrFused   `json:"addrs,omitempty"`
	Votes  *geoloc.Votes `json:"votes,omitempty"`
}

func packTrace(_ string, recs func(*Record) bool, fused func(*AddrFused) bool, votes func(*geoloc.Votes) bool, emit func(LocateInput)) {
	var in LocateInput
	if !recs(&in.Record) {
		return // cannot happen: every address and vote came from a trace
	}
	var af AddrFused
	for fused(&af) {
		in.Addrs = append(in.Addrs, af)
	}
	var v geoloc.Votes
	if votes(&v) {
		in.Votes = &v
	}
	emit(in)
}

type locateFn struct {
	Config Config `json:"config"`
	Shards int    `json:"shards"`

	w    *worker
	eng  *geoloc.Engine
	jobs []*locateJob

	located, failed, hops, hopsLocated beam.Counter
	byMethod                           map[string]beam.Counter
}

type locateJob struct {
	rec  Record
	data fusedData
	res  *geoloc.TraceResult
	err  error
	line []byte
	sum  Summary
}

// fusedData is one trace's share of the first pass (geoloc.FusedData).
type fusedData struct {
	addrs    map[netip.Addr]geoloc.Fused
	voteKey  string
	votes    geoloc.Votes
	hasVotes bool
}

func (d *fusedData) Fused(a netip.Addr) (geoloc.Fused, bool) {
	f, ok := d.addrs[a.Unmap()]
	return f, ok
}

func (d *fusedData) Votes(key string) (geoloc.Votes, bool) {
	if !d.hasVotes || key != d.voteKey {
		return geoloc.Votes{}, false
	}
	return d.votes, true
}

func (f *locateFn) Setup(ctx context.Context) error {
	w, err := workerFor(ctx, f.Config)
	if err != nil {
		return err
	}
	f.w = w
	f.located = beam.NewCounter(counterNS, "traces_located")
	f.failed = beam.NewCounter(counterNS, "traces_failed")
	f.hops = beam.NewCounter(counterNS, "hops")
	f.hopsLocated = beam.NewCounter(counterNS, "hops_located")
	f.byMethod = map[string]beam.Counter{}
	return nil
}

// StartBundle picks the locate engine for the learned side input, built
// once per worker and learned set: the side input is hashed per bundle and
// decoded only the first time.
func (f *locateFn) StartBundle(_ context.Context, learned func(*string) bool, _ func(int, string), _ func(Summary), _ func(string)) error {
	_, err := f.engine(learned)
	return err
}

func (f *locateFn) engine(learned func(*string) bool) (*geoloc.Engine, error) {
	var parts []string
	var p string
	for learned(&p) {
		parts = append(parts, p)
	}
	if f.Config.NoLearn {
		f.eng = f.w.locateEngine(nil, "")
		return f.eng, nil
	}
	slices.Sort(parts)
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))
	if e := f.w.cachedLocate(key); e != nil {
		f.eng = e
		return e, nil
	}
	conv, _, err := MergeLearned(parts)
	if err != nil {
		return nil, err
	}
	f.eng = f.w.locateEngine(conv, key)
	return f.eng, nil
}

func (f *locateFn) ProcessElement(ctx context.Context, in LocateInput, _ func(*string) bool, line func(int, string), summary func(Summary), dead func(string)) error {
	j := &locateJob{rec: in.Record, data: fusedData{addrs: make(map[netip.Addr]geoloc.Fused, len(in.Addrs))}}
	for _, af := range in.Addrs {
		if a, err := netip.ParseAddr(af.Addr); err == nil {
			j.data.addrs[a] = af.Fused
		}
	}
	if in.Votes != nil {
		j.data.votes = *in.Votes
		j.data.hasVotes = true
		j.data.voteKey = geoloc.SourceKey(j.rec.Trace)
	}
	f.jobs = append(f.jobs, j)
	if len(f.jobs) < batchSize {
		return nil
	}
	return f.flush(ctx, line, summary, dead)
}

func (f *locateFn) FinishBundle(ctx context.Context, _ func(*string) bool, line func(int, string), summary func(Summary), dead func(string)) error {
	return f.flush(ctx, line, summary, dead)
}

func (f *locateFn) flush(ctx context.Context, line func(int, string), summary func(Summary), dead func(string)) error {
	if len(f.jobs) == 0 {
		return nil
	}
	runAll(len(f.jobs), func(i int) {
		j := f.jobs[i]
		j.res, j.err = f.eng.LocateFused(ctx, j.rec.Trace, &j.data)
		if j.err != nil {
			return
		}
		j.line, j.err = json.Marshal(j.res)
		rep := output.BuildReport([]*geoloc.TraceResult{j.res})
		j.sum = Summary{Countries: rep.Countries, Organisations: rep.Organisations}
		if len(rep.Traces) > 0 {
			j.sum.Destination = rep.Traces[0].Destination
		}
		if !j.res.Destination.Addr.IsValid() && j.res.Destination.Name == "" {
			// The report counts a trace without a destination as a
			// destination of its own ("trace N"): N must name it in the
			// whole run, not in a report of one.
			j.sum.Destination = traceName(j.rec.ID)
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, j := range f.jobs {
		if j.err != nil {
			f.failed.Inc(ctx, 1)
			dead(fmt.Sprintf("%s: locate: %v", traceName(j.rec.ID), j.err))
			continue
		}
		f.located.Inc(ctx, 1)
		for _, h := range j.res.Hops {
			f.hops.Inc(ctx, 1)
			if h.Location != nil {
				f.hopsLocated.Inc(ctx, 1)
			}
			m := h.Method
			if m == "" {
				m = "none"
			}
			c, ok := f.byMethod[m]
			if !ok {
				c = beam.NewCounter(counterNS, "hops_by_method_"+m)
				f.byMethod[m] = c
			}
			c.Inc(ctx, 1)
		}
		line(shardOf(j.rec.ID, f.Shards), string(j.line))
		summary(j.sum)
	}
	clear(f.jobs)
	f.jobs = f.jobs[:0]
	return nil
}

// traceName turns a Record ID "FILE#N" into "FILE: trace N" for messages.
func traceName(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[:i] + ": trace " + id[i+1:]
	}
	return id
}

// shardOf spreads traces over the output shards by a hash of their ID.
func shardOf(id string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(shards))
}

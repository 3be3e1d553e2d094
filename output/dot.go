package output

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// WriteDOT writes a Graphviz digraph of the routers, in the manner of
// scapy's TracerouteResult.graph: one node per responding address (shared
// by every trace that passed it), clustered by AS (cluster label
// "AS<n> <org>"), an edge per consecutive pair of responding TTLs in each
// trace, coloured by trace (dashed across silent TTLs), and a node per
// source. `dot -Tsvg` renders it.
func WriteDOT(w io.Writer, results []*geoloc.TraceResult, opts Options) error {
	return writeDOT(w, slices.All(results), opts)
}

func writeDOT(w io.Writer, results Results, opts Options) error {
	bw := bufio.NewWriter(w)
	title := opts.Title
	if title == "" {
		title = "geoloc"
	}
	fmt.Fprintf(bw, "digraph %s {\n", dotID(title))
	bw.WriteString("  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, labelloc=t];\n")
	bw.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=9];\n")
	bw.WriteString("  edge [arrowsize=0.6];\n")

	type node struct {
		id, label string
		asn       uint32
		org       string
	}
	nodes := map[string]*node{}
	var order []string
	addNode := func(id, label string, asn uint32, org string) {
		if n, ok := nodes[id]; ok {
			if n.org == "" {
				n.org = org
			}
			return
		}
		nodes[id] = &node{id: id, label: label, asn: asn, org: org}
		order = append(order, id)
	}
	type edge struct {
		from, to string
		trace    int
		dashed   bool
	}
	var edges []edge
	seenEdge := map[edge]bool{}
	var sources []string
	var legend []string

	for i, tr := range results {
		if tr == nil {
			continue
		}
		legend = append(legend, fmt.Sprintf("  \"legend%d\" [shape=plaintext, style=\"\", label=%s, fontcolor=%q];\n", i+1, dotID(fmt.Sprintf("trace %d: %s", i+1, style.TraceTitle(tr, i))), style.Hex(style.TraceColor(i))))
		// Group responding addresses by TTL.
		byTTL := map[int][]*geoloc.HopResult{}
		var ttls []int
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !h.Addr.IsValid() {
				continue
			}
			if _, ok := byTTL[h.TTL]; !ok {
				ttls = append(ttls, h.TTL)
			}
			byTTL[h.TTL] = append(byTTL[h.TTL], h)
			label := h.Addr.String()
			if h.Name != "" {
				label += "\n" + h.Name
			}
			if p := style.Place(h.Location); p != "" {
				label += "\n" + p
			}
			addNode(h.Addr.String(), label, h.ASN, h.ASOrg)
		}
		slices.Sort(ttls)
		var prev []string
		prevTTL := 0
		if tr.Source.Addr.IsValid() || tr.Source.Name != "" {
			src := "source " + tr.Source.Addr.String()
			if !tr.Source.Addr.IsValid() {
				src = "source " + tr.Source.Name
			}
			if !slices.Contains(sources, src) {
				sources = append(sources, src)
			}
			prev = []string{src}
		}
		for _, ttl := range ttls {
			var cur []string
			for _, h := range byTTL[ttl] {
				id := h.Addr.String()
				if !slices.Contains(cur, id) {
					cur = append(cur, id)
				}
			}
			for _, a := range prev {
				for _, b := range cur {
					if a == b {
						continue
					}
					e := edge{a, b, i, ttl-prevTTL > 1}
					if !seenEdge[e] {
						seenEdge[e] = true
						edges = append(edges, e)
					}
				}
			}
			prev, prevTTL = cur, ttl
		}
	}

	// Clusters by AS, in ASN order; unknown AS last, unclustered.
	byAS := map[uint32][]*node{}
	var asns []uint32
	for _, id := range order {
		n := nodes[id]
		if _, ok := byAS[n.asn]; !ok {
			asns = append(asns, n.asn)
		}
		byAS[n.asn] = append(byAS[n.asn], n)
	}
	slices.SortFunc(asns, func(a, b uint32) int {
		if (a == 0) != (b == 0) {
			if a == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a, b)
	})
	for _, asn := range asns {
		ns := byAS[asn]
		indent := "  "
		if asn != 0 {
			org := ""
			for _, n := range ns {
				if n.org != "" {
					org = n.org
					break
				}
			}
			c := style.ASColor(asn)
			fmt.Fprintf(bw, "  subgraph %s {\n", dotID("cluster_AS"+strconv.FormatUint(uint64(asn), 10)))
			fmt.Fprintf(bw, "    label=%s;\n    style=\"rounded,filled\";\n    color=%q;\n    fillcolor=\"%s22\";\n    fontcolor=%q;\n",
				dotID(style.ASLabel(asn, org)), style.Hex(c), style.Hex(c), style.Hex(c))
			indent = "    "
		}
		for _, n := range ns {
			fmt.Fprintf(bw, "%s%s [label=%s];\n", indent, dotID(n.id), dotID(n.label))
		}
		if asn != 0 {
			bw.WriteString("  }\n")
		}
	}
	for _, s := range sources {
		fmt.Fprintf(bw, "  %s [shape=ellipse, fillcolor=\"#eeeeee\", label=%s];\n", dotID(s), dotID(s))
	}
	for _, e := range edges {
		st := ""
		if e.dashed {
			st = ", style=dashed"
		}
		fmt.Fprintf(bw, "  %s -> %s [color=%q%s];\n", dotID(e.from), dotID(e.to), style.Hex(style.TraceColor(e.trace)), st)
	}
	if len(legend) > 1 {
		bw.WriteString("  subgraph \"cluster_legend\" {\n    label=\"traces\";\n    style=rounded;\n")
		for _, l := range legend {
			bw.WriteString("  " + l)
		}
		bw.WriteString("  }\n")
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// dotID quotes s as a DOT string ID: sanitised (no control characters),
// with backslashes and quotes escaped, and newlines as DOT's "\n" escape,
// so a hostile name can neither end the string nor use label escapes.
func dotID(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = style.Sanitize(l, 255)
		l = strings.ReplaceAll(l, `\`, `\\`)
		l = strings.ReplaceAll(l, `"`, `\"`)
		lines[i] = l
	}
	return `"` + strings.Join(lines, `\n`) + `"`
}

package pipeline

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// codec is one element coder of types.go, as a decode of bytes and an
// encode of what it decoded.
type codec struct {
	name   string
	decode func([]byte) (any, error)
	encode func(any) ([]byte, error)
}

func codecOf[T any](name string, dec func([]byte) (T, error), enc func(T) ([]byte, error)) codec {
	return codec{
		name:   name,
		decode: func(b []byte) (any, error) { return dec(b) },
		encode: func(v any) ([]byte, error) { return enc(v.(T)) },
	}
}

var codecs = []codec{
	codecOf("Record", decRecord, encRecord),
	codecOf("AddrFused", decAddrFused, encAddrFused),
	codecOf("LocateInput", decLocateInput, encLocateInput),
	codecOf("Summary", decSummary, encSummary),
	codecOf("Tally", decTally, encTally),
	codecOf("ReportRow", decReportRow, encReportRow),
	codecOf("Fused", decFused, encFused),
	codecOf("Votes", decVotes, encVotes),
	codecOf("NameObservation", decNameObservation, encNameObservation),
}

// FuzzCoders: every element coder decodes any bytes without a panic, to a
// value or an error; a value it decoded encodes, and decoding that again
// is stable (what crosses a second shuffle is what crossed the first).
func FuzzCoders(f *testing.F) {
	for _, s := range []string{
		`{"id":"a.jsonl#1","trace":{"format":"simulated","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","rtt_ms":1.5}]}]}}`,
		`{"addr":"192.0.2.1","fused":{"obs":[{"vantage":{"lat":1,"lon":2,"name":"x"},"rtt_ms":3}]}}`,
		`{"record":{"id":"x#1","trace":null},"addrs":[{"addr":"::1","fused":{"obs":null}}],"votes":{"traces":1,"cells":[{"cell":1,"weight":0.5}]}}`,
		`{"destination":"d","countries":[{"key":"FR","name":"France","destinations":1,"traces":1,"hops":2,"mean_confidence":0.5}]}`,
		`{"name":"n","traces":1,"hops":2,"conf_sum":1e308,"dests":3}`,
		`{"organisation":true,"exposure":{"key":"AS1"}}`,
		`{"name":"r1.par.example.net","where":[{"lat":48.8,"lon":2.3,"radius_km":100}]}`,
		`null`, `{}`, `[]`, `{"obs":[{"rtt_ms":-1}]}`, `{"cells":[{"cell":18446744073709551615}]}`,
	} {
		for i := range codecs {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		c := codecs[int(which)%len(codecs)]
		v, err := c.decode(b)
		if err != nil {
			return
		}
		enc, err := c.encode(v)
		require.NoError(t, err, c.name)
		v2, err := c.decode(enc)
		require.NoError(t, err, "%s: %s", c.name, enc)
		enc2, err := c.encode(v2)
		require.NoError(t, err, c.name)
		require.True(t, bytes.Equal(enc, enc2), "%s: %s then %s", c.name, enc, enc2)
	})
}

// FuzzMergeLearned: the learn stage's side input, parsed by the locate
// stage on every worker, is any bytes without a panic: a conventions set
// or an error.
func FuzzMergeLearned(f *testing.F) {
	f.Add([]byte(`{"observed":3,"conventions":{"about":"x","sources":{"a":"b"},"domains":[{"domain":"example.net","patterns":["^(?P<code>[a-z]{3})[0-9]*\\."]}],"entries":[{"domain":"example.net","code":"par","lat":48.86,"lon":2.35}]}}`), []byte(`{"observed":1,"conventions":{}}`))
	f.Add([]byte(`{}`), []byte(`not json`))
	f.Add([]byte(`{"conventions":null}`), []byte(``))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c, key, err := MergeLearned([]string{string(a), string(b)})
		if err != nil {
			return
		}
		require.NotNil(t, c)
		require.NotEmpty(t, key)
		// The order of the parts changes nothing.
		c2, key2, err := MergeLearned([]string{string(b), string(a)})
		require.NoError(t, err)
		require.Equal(t, key, key2)
		require.Equal(t, c, c2)
	})
}

package har

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func FuzzHosts(f *testing.F) {
	f.Add([]byte(`{"log":{"entries":[{"request":{"url":"https://a.example/"},"serverIPAddress":"[2001:db8::1]:443"}]}}`))
	f.Add([]byte(`{"log":{"entries":[{"request":{"url":"data:x"}},{"request":{"url":"http://[::1]/"},"serverIPAddress":null}]}}`))
	f.Add([]byte(`{"log":{"pages":[],"entries":[`))
	// The head of each real HAR, cut: exercises truncation at every depth.
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "har", "*.har"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b[:min(len(b), 4000)])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Hosts(bytes.NewReader(data), Options{Input: "fuzz"})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error does not name the input: %q", err)
			}
		}
		if s == nil {
			t.Fatal("nil summary")
		}
		// Cutting the values of skipped keys changes nothing read.
		full, ferr := hostsOf(entries(bytes.NewReader(data), Options{Input: "fuzz"}, maxString))
		if fmt.Sprint(err) != fmt.Sprint(ferr) || !reflect.DeepEqual(s, full) {
			t.Fatalf("skipped values cut: %+v, %v; read whole: %+v, %v", s, err, full, ferr)
		}
		for _, h := range s.Hosts {
			if h.Name == "" || h.Requests <= 0 {
				t.Fatalf("bad host %+v", h)
			}
			for _, a := range h.Addrs {
				if !a.IsValid() {
					t.Fatalf("invalid addr in %+v", h)
				}
			}
		}
	})
}

// FuzzCapReader: under its caps, capReader passes any input on unchanged,
// whatever the chunks it is read in; a string past maxString comes out
// cut, still valid JSON.
func FuzzCapReader(f *testing.F) {
	f.Add([]byte(`{"a":"b\"c\\u00e9","n":-1.5e3,"t":[true,null]}`), uint8(7))
	f.Add([]byte("\"\\u12"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		if len(data) > maxBare {
			return
		}
		cr := newCapReader(bytes.NewReader(data))
		cr.skipCap = maxString
		got, err := io.ReadAll(&chunked{cr, int(chunk) + 1})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%q became %q (%v)", data, got, err)
		}
	})
}

type chunked struct {
	r io.Reader
	n int
}

func (c *chunked) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

func TestCapReaderCutsLongStrings(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", maxString+10), strings.Repeat(`\u00e9`, maxString/5), strings.Repeat(`\"`, maxString)} {
		in := `{"url":"` + s + `","k":"` + s + `","n":` + strings.Repeat("1", 3*maxBare) + "}"
		out, err := io.ReadAll(newCapReader(strings.NewReader(in)))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			URL string
			K   string
			N   json.Number
		}
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%.80s...: %v", out, err)
		}
		if !strings.HasSuffix(v.URL, truncMark) || len(v.URL) > maxString+1 || !strings.HasSuffix(v.K, truncMark) || len(v.K) > maxSkipped+1 || len(v.N) != maxBare {
			t.Fatalf("url of %d bytes, skipped value of %d, number of %d", len(v.URL), len(v.K), len(v.N))
		}
	}
}

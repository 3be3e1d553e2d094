package har

import (
	"bytes"
	"os"
	"path/filepath"
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

package fsutil

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestTempPID(t *testing.T) {
	const p = ".route.kml.geoloc-tmp-"
	const rnd = "0123456789abcdef"
	tests := []struct {
		name string
		pid  int
		ok   bool
	}{
		{p + "42-" + rnd, 42, true},
		{p + "2147483647-" + rnd, 2147483647, true},
		{p + "2147483648-" + rnd, 0, false}, // past pid_t
		{p + "0-" + rnd, 0, false},          // kill(0, …) is the process group
		{p + "-1-" + rnd, 0, false},
		{p + "01-" + rnd, 0, false}, // not as CreateTemp writes it
		{p + "+1-" + rnd, 0, false},
		{p + "-" + rnd, 0, false},
		{p + "42-" + strings.ToUpper(rnd), 0, false},
		{p + "42-" + rnd + "0", 0, false},
		{p + "42-" + rnd[:15], 0, false},
		{p + "42", 0, false},
		{p + "1.geoloc-tmp-42-" + rnd, 0, false},
		{".other.kml.geoloc-tmp-42-" + rnd, 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		pid, ok := tempPID(tt.name, p)
		assert.Equal(t, tt.ok, ok, tt.name)
		assert.Equal(t, tt.pid, pid, tt.name)
	}
}

// FuzzTempPID: whatever the name, tempPID takes it only in the exact form
// CreateTemp gives, with a pid kill(2) reads as one process.
func FuzzTempPID(f *testing.F) {
	f.Add(".a.geoloc-tmp-42-0123456789abcdef", ".a.geoloc-tmp-")
	f.Add(".a.geoloc-tmp-0-0123456789abcdef", ".a.geoloc-tmp-")
	f.Add(".a.geoloc-tmp--1-0123456789abcdef", ".a.geoloc-tmp-")
	f.Fuzz(func(t *testing.T, name, prefix string) {
		pid, ok := tempPID(name, prefix)
		if !ok {
			return
		}
		if pid <= 0 || pid > 1<<31-1 {
			t.Fatalf("%q: pid %d", name, pid)
		}
		rest := strings.TrimPrefix(name, prefix+strconv.Itoa(pid)+"-")
		if len(rest) != 16 || strings.Trim(rest, "0123456789abcdef") != "" {
			t.Fatalf("%q taken, with pid %d", name, pid)
		}
	})
}

func TestTempPrefix(t *testing.T) {
	for _, base := range []string{"route.kml", strings.Repeat("a", 300), strings.Repeat("é", 150), strings.Repeat("€", 100)} {
		p := TempPrefix(base)
		assert.True(t, utf8.ValidString(p), "cut at a character boundary")
		assert.LessOrEqual(t, len(p)+10+1+16, 255, "names within NAME_MAX")
		assert.True(t, strings.HasSuffix(p, TempMarker))
	}
	assert.Equal(t, ".route.kml.geoloc-tmp-", TempPrefix("route.kml"))
}

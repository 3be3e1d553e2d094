package vantage

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// zeros is /dev/zero, counting what was read.
type zeros struct{ read int }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.read += len(p)
	return len(p), nil
}

// TestReadTableBounded is issue 16 item 4: --vantage-points /dev/zero grew
// to 24 GB (encoding/csv holds a record until its line ends). A line past
// 64 KiB and a table past MaxTableEntries entries are refused, naming the
// line and the cap.
func TestReadTableBounded(t *testing.T) {
	z := &zeros{}
	_, err := ReadTable(z, "/dev/zero")
	require.Error(t, err)
	assert.Equal(t, "/dev/zero:1: vantage points: line longer than 64 KiB: not a vantage point table", err.Error())
	assert.Less(t, z.read, 1<<20, "gave up at the line cap")

	long := "1,2,3\n" + strings.Repeat("9", 100<<10) + ",1,2\n"
	_, err = ReadTable(strings.NewReader(long), "t.csv")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "t.csv:2: vantage points: line longer than 64 KiB")

	var b bytes.Buffer
	for i := range MaxTableEntries + 1 {
		fmt.Fprintf(&b, "%d,1.5,2.5\n", i+1)
	}
	_, err = ReadTable(&b, "many.csv")
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf("many.csv:%d: vantage points: more than %d entries: giving up", MaxTableEntries+1, MaxTableEntries), err.Error())

	b.Reset()
	for i := range MaxTableEntries {
		fmt.Fprintf(&b, "%d,1.5,2.5\n", i+1)
	}
	tab, err := ReadTable(&b, "full.csv")
	require.NoError(t, err, "a table at the cap still reads")
	assert.Equal(t, MaxTableEntries, tab.Len())
}

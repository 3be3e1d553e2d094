package traceroute_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// A start time the tool printed past year 9999 (in UTC) is not kept: JSON
// cannot write it, and one such trace made every JSON writer of the batch
// fail (issue 16 item 11). Every parsed trace marshals.
func TestStartedAlwaysMarshals(t *testing.T) {
	tests := []struct {
		name, format, in string
		started          string // RFC 3339 of the kept start, "" for none
	}{
		{"mtr-csv huge", "", "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,\nMTR.0.95,99999999999999,OK,192.0.2.1,1,192.0.2.1,0.00,3,0,0.05,0.05,0.05,0.05,0.00\n", ""},
		{"mtr-csv good", "", "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,\nMTR.0.95,1795731409,OK,192.0.2.1,1,192.0.2.1,0.00,3,0,0.05,0.05,0.05,0.05,0.00\n", "2026-11-26T22:16:49Z"},
		{"mtr-report past 9999 in UTC", "", "Start: 9999-12-31T23:59:59-0100\nHOST: box                       Loss%   Snt   Last   Avg  Best  Wrst StDev\n  1.|-- 192.0.2.1                0.0%     1    0.1   0.1   0.1   0.1   0.0\n", ""},
		{"mtr-report good", "", "Start: 2026-11-26T22:17:50+0100\nHOST: box                       Loss%   Snt   Last   Avg  Best  Wrst StDev\n  1.|-- 192.0.2.1                0.0%     1    0.1   0.1   0.1   0.1   0.0\n", "2026-11-26T21:17:50Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trs, errs := readAll(t, []byte(tt.in), traceroute.ReadOptions{Format: tt.format, Input: "in"})
			require.Empty(t, errs)
			require.Len(t, trs, 1)
			_, err := json.Marshal(trs[0])
			require.NoError(t, err)
			got := ""
			if !trs[0].Started.IsZero() {
				got = trs[0].Started.Format("2006-01-02T15:04:05Z07:00")
			}
			assert.Equal(t, tt.started, got)
		})
	}
}

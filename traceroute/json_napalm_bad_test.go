package traceroute

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNapalmXMLWithoutResults: a forced XML format over input that holds no
// result element used to end silently with no trace and no error.
func TestNapalmXMLWithoutResults(t *testing.T) {
	deep := strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)
	tests := []struct {
		name, format, input, want string
	}{
		{"junos on JSON", FormatJunosXML, `{"a":1}` + "\n", "in:2: junos-xml: no <traceroute-results> element in the input"},
		{"iosxr on JSON", FormatIOSXRXML, `{"a":1}` + "\n", "in:2: iosxr-xml: no <traceroute-response> element in the input"},
		{"junos, other XML", FormatJunosXML, "<rpc-reply><x/></rpc-reply>\n", "in:2: junos-xml: no <traceroute-results> element in the input"},
		{"junos, deep nesting", FormatJunosXML, deep, "in:1: junos-xml: XML nested deeper than 64 elements"},
		{"iosxr, deep nesting", FormatIOSXRXML, deep, "in:1: iosxr-xml: XML nested deeper than 64 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []string
			n := 0
			for tr, err := range Read(strings.NewReader(tt.input), ReadOptions{Format: tt.format, Input: "in"}) {
				if err != nil {
					errs = append(errs, err.Error())
					continue
				}
				require.NotNil(t, tr)
				n++
			}
			assert.Zero(t, n)
			assert.Equal(t, []string{tt.want}, errs)
		})
	}
}

package fetch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geoloc-dev/geoloc/candidates/fetch"
)

// FuzzReadGeoIPConf: any file gives a configuration or an error naming it.
func FuzzReadGeoIPConf(f *testing.F) {
	f.Add("AccountID 12345\nLicenseKey secret\nEditionIDs GeoLite2-ASN GeoLite2-City\n")
	f.Add("# old style\nUserId 1\nLicenseKey k\nProductIds 106 GeoLite2-City\n")
	f.Add("AccountID\nLicenseKey a b\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(dir, "GeoIP.conf")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := fetch.ReadGeoIPConf(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if strings.ContainsAny(c.AccountID+c.LicenseKey, " \t\n") {
			t.Fatalf("field with blanks: %+v", c)
		}
	})
}

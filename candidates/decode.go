package candidates

import (
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// optFloat decodes a number that databases store as float32, float64, an
// integer or a decimal string (IPinfo's "lat"/"lng"), remembering whether it
// was present.
type optFloat struct {
	V  float64
	OK bool
}

func (f *optFloat) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	switch k {
	case mmdbdata.KindFloat32:
		v, next, err := c.ReadFloat32()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		// ip-location-db stores coordinates as float32: keep the decimal
		// value that was written (37.422), not its binary neighbour
		// (37.422000885009766).
		d, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
		*f = optFloat{V: d, OK: true}
		return next, nil
	case mmdbdata.KindFloat64:
		v, next, err := c.ReadFloat64()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		*f = optFloat{V: v, OK: true}
		return next, nil
	case mmdbdata.KindString:
		s, next, err := c.ReadString()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		if v, perr := strconv.ParseFloat(strings.TrimSpace(s), 64); perr == nil {
			*f = optFloat{V: v, OK: true}
		}
		return next, nil
	case mmdbdata.KindUint16, mmdbdata.KindUint32, mmdbdata.KindUint64, mmdbdata.KindInt32:
		v, signed, next, err := c.ReadInteger()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		fv := float64(v)
		if signed {
			fv = float64(int64(v))
		}
		*f = optFloat{V: fv, OK: true}
		return next, nil
	default:
		return c.Skip()
	}
}

// asNumber decodes an AS number stored as an integer (MaxMind, DB-IP) or as
// a string "AS13335" (IPinfo).
type asNumber uint32

func (a *asNumber) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	switch k {
	case mmdbdata.KindString:
		s, next, err := c.ReadString()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		*a = asNumber(parseASN(s))
		return next, nil
	case mmdbdata.KindUint16, mmdbdata.KindUint32, mmdbdata.KindUint64, mmdbdata.KindInt32:
		v, _, next, err := c.ReadInteger()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		if v <= 1<<32-1 {
			*a = asNumber(v)
		}
		return next, nil
	default:
		return c.Skip()
	}
}

// parseASN reads "AS13335", "as13335" or "13335"; 0 when it is none of them.
func parseASN(s string) uint32 {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's') {
		s = s[2:]
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(v)
}

type mmName struct {
	Names struct {
		En string `maxminddb:"en"`
	} `maxminddb:"names"`
}

type mmCountry struct {
	ISO   string `maxminddb:"iso_code"`
	Names struct {
		En string `maxminddb:"en"`
	} `maxminddb:"names"`
}

// nestedRecord is the GeoIP2 layout (MaxMind City/Country, DB-IP Lite,
// IP2Location's GeoIP2-compatible files), plus the ASN keys MaxMind and
// DB-IP use in their ASN databases.
type nestedRecord struct {
	City              mmName      `maxminddb:"city"`
	Country           mmCountry   `maxminddb:"country"`
	RegisteredCountry mmCountry   `maxminddb:"registered_country"`
	Subdivisions      []mmCountry `maxminddb:"subdivisions"`
	Location          struct {
		Lat      optFloat `maxminddb:"latitude"`
		Lon      optFloat `maxminddb:"longitude"`
		Accuracy optFloat `maxminddb:"accuracy_radius"`
	} `maxminddb:"location"`
	ASN   asNumber `maxminddb:"autonomous_system_number"`
	ASOrg string   `maxminddb:"autonomous_system_organization"`
}

// flatRecord is every flat layout: ip-location-db (country_code, state1,
// city, latitude, longitude), IPinfo Lite (country_code, asn, as_name),
// IPinfo's location and geolocation samples (city, region, country, lat/lng
// or latitude/longitude) and IPinfo's ASN files (asn, name).
type flatRecord struct {
	CountryCode string   `maxminddb:"country_code"`
	Country     string   `maxminddb:"country"`
	City        string   `maxminddb:"city"`
	State1      string   `maxminddb:"state1"`
	Region      string   `maxminddb:"region"`
	RegionCode  string   `maxminddb:"region_code"`
	Latitude    optFloat `maxminddb:"latitude"`
	Longitude   optFloat `maxminddb:"longitude"`
	Lat         optFloat `maxminddb:"lat"`
	Lng         optFloat `maxminddb:"lng"`
	ASN         asNumber `maxminddb:"asn"`
	ASName      string   `maxminddb:"as_name"`
	Name        string   `maxminddb:"name"`
}

// The record types decode themselves with the cursor API: the reflection
// decoder costs several times more per record, and a lookup's time is
// mostly decoding when the record cache misses.

// readStr reads a string value, skipping a value of any other kind.
func readStr(c mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return "", mmdbdata.Cursor{}, err
	}
	if k != mmdbdata.KindString {
		next, err := c.Skip()
		return "", next, err
	}
	return c.ReadString()
}

// forEachKey calls f for each key of the map at c; f returns the value's
// successor. Values that are not maps are skipped.
func forEachKey(c mmdbdata.Cursor, f func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error)) (mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if k != mmdbdata.KindMap {
		return c.Skip()
	}
	m, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, val, ok := m.Next(next)
		if !ok {
			break
		}
		if next, err = f(key, val); err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

// readNamed reads {"names": {"en": ...}, "iso_code": ..., "code": ...}.
func readNamed(c mmdbdata.Cursor, en, iso *string) (mmdbdata.Cursor, error) {
	return forEachKey(c, func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		switch string(key) {
		case "names":
			return forEachKey(val, func(key []byte, val mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
				if string(key) == "en" {
					*en, next, err = readStr(val)
					return next, err
				}
				return val.Skip()
			})
		case "iso_code":
			if iso != nil {
				s, next, err := readStr(val)
				*iso = s
				return next, err
			}
		}
		return val.Skip()
	})
}

func (r *nestedRecord) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	return forEachKey(c, func(key []byte, val mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
		switch string(key) {
		case "city":
			return readNamed(val, &r.City.Names.En, nil)
		case "country":
			return readNamed(val, &r.Country.Names.En, &r.Country.ISO)
		case "registered_country":
			return readNamed(val, &r.RegisteredCountry.Names.En, &r.RegisteredCountry.ISO)
		case "subdivisions":
			k, err := val.Kind()
			if err != nil {
				return mmdbdata.Cursor{}, err
			}
			if k != mmdbdata.KindSlice {
				return val.Skip()
			}
			sc, err := val.Slice()
			if err != nil {
				return mmdbdata.Cursor{}, err
			}
			var next mmdbdata.Cursor
			for {
				i, elem, ok := sc.Next(next)
				if !ok {
					break
				}
				if i == 0 {
					r.Subdivisions = append(r.Subdivisions[:0], mmCountry{})
					next, err = readNamed(elem, &r.Subdivisions[0].Names.En, &r.Subdivisions[0].ISO)
				} else {
					next, err = elem.Skip()
				}
				if err != nil {
					return mmdbdata.Cursor{}, err
				}
			}
			return sc.End()
		case "location":
			return forEachKey(val, func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error) {
				switch string(key) {
				case "latitude":
					return r.Location.Lat.UnmarshalMaxMindDBCursor(val)
				case "longitude":
					return r.Location.Lon.UnmarshalMaxMindDBCursor(val)
				case "accuracy_radius":
					return r.Location.Accuracy.UnmarshalMaxMindDBCursor(val)
				}
				return val.Skip()
			})
		case "autonomous_system_number":
			return r.ASN.UnmarshalMaxMindDBCursor(val)
		case "autonomous_system_organization":
			r.ASOrg, next, err = readStr(val)
			return next, err
		}
		return val.Skip()
	})
}

func (r *flatRecord) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	return forEachKey(c, func(key []byte, val mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
		var dst *string
		switch string(key) {
		case "country_code":
			dst = &r.CountryCode
		case "country":
			dst = &r.Country
		case "city":
			dst = &r.City
		case "state1":
			dst = &r.State1
		case "region":
			dst = &r.Region
		case "region_code":
			dst = &r.RegionCode
		case "as_name":
			dst = &r.ASName
		case "name":
			dst = &r.Name
		case "latitude":
			return r.Latitude.UnmarshalMaxMindDBCursor(val)
		case "longitude":
			return r.Longitude.UnmarshalMaxMindDBCursor(val)
		case "lat":
			return r.Lat.UnmarshalMaxMindDBCursor(val)
		case "lng":
			return r.Lng.UnmarshalMaxMindDBCursor(val)
		case "asn":
			return r.ASN.UnmarshalMaxMindDBCursor(val)
		default:
			return val.Skip()
		}
		*dst, next, err = readStr(val)
		return next, err
	})
}

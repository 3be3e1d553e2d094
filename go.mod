module github.com/geoloc-dev/geoloc

go 1.26.0

require (
	github.com/golang/geo v0.0.0-20260818125358-b200a1149890 // indirect
	github.com/maxmind/mmdbwriter v1.2.0 // indirect
	github.com/miekg/dns v1.1.73 // indirect
	github.com/oschwald/geoip2-golang/v2 v2.5.0 // indirect
	github.com/oschwald/maxminddb-golang/v2 v2.9.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/twpayne/go-kml/v3 v3.2.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	go4.org/netipx v0.0.0-20231129151722-fdeea329fbba // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/term v0.48.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)

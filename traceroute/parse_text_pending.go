package traceroute

// textFormats are the text formats (owned by the text parsers), most specific
// first. Each entry here is a placeholder until its parser lands.
var textFormats = []format{
	{name: "mtr-report", detect: func([]byte) bool { return false }, parse: notYet("mtr-report")},
	{name: "mtr-csv", detect: func([]byte) bool { return false }, parse: notYet("mtr-csv")},
	{name: "mtr-raw", detect: func([]byte) bool { return false }, parse: notYet("mtr-raw")},
	{name: "winmtr", detect: func([]byte) bool { return false }, parse: notYet("winmtr")},
	{name: "windows-tracert", detect: func([]byte) bool { return false }, parse: notYet("windows-tracert")},
	{name: "tracepath", detect: func([]byte) bool { return false }, parse: notYet("tracepath")},
	{name: "junos", detect: func([]byte) bool { return false }, parse: notYet("junos")},
	{name: "cisco", detect: func([]byte) bool { return false }, parse: notYet("cisco")},
	{name: "bsd-traceroute", detect: func([]byte) bool { return false }, parse: notYet("bsd-traceroute")},
	{name: "linux-traceroute", detect: func([]byte) bool { return false }, parse: notYet("linux-traceroute")},
}

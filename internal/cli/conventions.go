package cli

import (
	"flag"

	"github.com/geoloc-dev/geoloc/rdns"
)

// addConventions registers --conventions, for every command that reads
// router names.
func (c *common) addConventions(fs *flag.FlagSet) {
	fs.Var(&c.conventions, "conventions", "naming conventions `FILE` (as 'geoloc learn' writes, or by hand) used beside the built-in ones; repeatable, a later file wins for the same domain and code")
}

// reader returns the router-name reader of the built-in conventions and
// those of --conventions, each file checked as it is read (errors name the
// file and line).
func (a *app) reader(c *common) (*rdns.Reader, error) {
	sets, err := a.conventions(c)
	if err != nil {
		return nil, err
	}
	return rdns.NewReader(sets...), nil
}

// conventions reads the files of --conventions, each checked as it is read.
func (a *app) conventions(c *common) ([]*rdns.Conventions, error) {
	sets := make([]*rdns.Conventions, 0, len(c.conventions))
	for _, name := range c.conventions {
		rc, err := a.openInput(name)
		if err != nil {
			return nil, err
		}
		set, err := rdns.ReadConventions(rc, name)
		rc.Close()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	return sets, nil
}

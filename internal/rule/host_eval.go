package rule

// EvaluateHosts runs the host rules alone, over a snapshot that may have
// no server (hoofbeat host): rules that need the server's neighbourhood
// from the API are skipped and say so.
func EvaluateHosts(in *Input, opt Options) Result {
	ex := map[string]bool{}
	for k, v := range opt.Exclude {
		ex[k] = v
	}
	for _, r := range Catalogue() {
		if r.Domain() != "host" {
			ex[r.Name] = true
		}
	}
	opt.Exclude = ex
	opt.hostsOnly = true
	return Evaluate(in, opt)
}

package rule

// Catalogue returns every rule, in the order that breaks ties when ranking:
// within a domain, common causes come before exotic ones.
func Catalogue() []*Rule {
	return []*Rule{
		instanceNotActive,
	}
}

package customers

// idUnion returns the ids a period and the one before it hold between
// them, each once: the keys of cur and prev.
func idUnion[V any](cur, prev map[uint32]V) map[uint32]bool {
	ids := make(map[uint32]bool, max(len(cur), len(prev)))
	for id := range cur {
		ids[id] = true
	}
	for id := range prev {
		ids[id] = true
	}
	return ids
}

// currencyUnion returns the currencies of cur and prev, each once.
func currencyUnion(cur, prev []money) map[uint32]bool {
	curs := map[uint32]bool{}
	for _, m := range cur {
		curs[m.cur] = true
	}
	for _, m := range prev {
		curs[m.cur] = true
	}
	return curs
}

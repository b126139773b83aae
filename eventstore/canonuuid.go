package eventstore

import "github.com/google/uuid"

// parseCanonicalUUID returns the UUID id spells when it is in the canonical
// form uuid.UUID.String writes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in
// lower-case hex), the only form a record stores as 16 bytes (flagUUID):
// what uuid.Parse accepts besides (upper case, braces, a urn: prefix, no
// dashes) would not read back as it was sent. It is uuid.Parse followed by
// a comparison with String, without the string String allocates.
func parseCanonicalUUID(id string) (u uuid.UUID, ok bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i--
			continue
		}
		hi, lo := lowerHex[id[i]], lowerHex[id[i+1]]
		if hi|lo > 0xf {
			return uuid.UUID{}, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, true
}

// lowerHex is the value of each lower-case hexadecimal digit, 0xff for
// every other byte: a table, not comparisons, because the digits and
// letters of a random UUID make the branches of comparisons mispredict.
var lowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

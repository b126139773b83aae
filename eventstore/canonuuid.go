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
		hi, ok1 := lowerHex(id[i])
		lo, ok2 := lowerHex(id[i+1])
		if !ok1 || !ok2 {
			return uuid.UUID{}, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, true
}

// lowerHex returns the value of a lower-case hexadecimal digit.
func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

package eventstore

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// canonicalByParse is what encodeRecord tested before parseCanonicalUUID.
func canonicalByParse(id string) (uuid.UUID, bool) {
	u, err := uuid.Parse(id)
	if err == nil && len(id) == 36 && u.String() == id {
		return u, true
	}
	return uuid.UUID{}, false
}

func TestParseCanonicalUUID(t *testing.T) {
	u := uuid.MustParse("0f8e2a4c-1b3d-4e5f-8a9b-c0d1e2f3a4b5")
	for _, c := range []struct {
		id string
		ok bool
	}{
		{u.String(), true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", true},
		{strings.ToUpper(u.String()), false},
		{"0F8e2a4c-1b3d-4e5f-8a9b-c0d1e2f3a4b5", false},
		{"{" + u.String() + "}", false},
		{"urn:uuid:" + u.String(), false},
		{strings.ReplaceAll(u.String(), "-", ""), false},
		{"0f8e2a4c-1b3d-4e5f-8a9b-c0d1e2f3a4b", false},
		{"0f8e2a4c-1b3d-4e5f-8a9b-c0d1e2f3a4b5a", false},
		{"0f8e2a4c+1b3d-4e5f-8a9b-c0d1e2f3a4b5", false},
		{"0f8e2a4c-1b3d-4e5f-8a9b-c0d1e2f3a4bg", false},
		{"0f8e2a4-c1b3d-4e5f-8a9b-c0d1e2f3a4b5", false},
		{"", false},
		{"C-000123", false},
	} {
		got, ok := parseCanonicalUUID(c.id)
		if ok != c.ok || (ok && got.String() != c.id) {
			t.Errorf("parseCanonicalUUID(%q) = %v, %v; want ok %v", c.id, got, ok, c.ok)
		}
		if want, wok := canonicalByParse(c.id); wok != ok || want != got {
			t.Errorf("parseCanonicalUUID(%q) = %v, %v; uuid.Parse and String give %v, %v", c.id, got, ok, want, wok)
		}
	}
}

func FuzzParseCanonicalUUID(f *testing.F) {
	f.Add("0f8e2a4c-1b3d-4e5f-8a9b-c0d1e2f3a4b5")
	f.Add("0F8E2A4C-1B3D-4E5F-8A9B-C0D1E2F3A4B5")
	f.Add("{0f8e2a4c-1b3d-4e5f-8a9b-c0d1e2f3a4b5}")
	f.Add("0f8e2a4c1b3d4e5f8a9bc0d1e2f3a4b5")
	f.Fuzz(func(t *testing.T, id string) {
		got, ok := parseCanonicalUUID(id)
		want, wok := canonicalByParse(id)
		if ok != wok || got != want {
			t.Fatalf("parseCanonicalUUID(%q) = %v, %v; uuid.Parse and String give %v, %v", id, got, ok, want, wok)
		}
	})
}

package domain

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxSlugLen is the longest slug plaint accepts, in characters.
const MaxSlugLen = 64

// Slug normalises a category, segment, channel or other dimension value: the
// text is brought to Unicode normalisation form NFKC and lower-cased; letters,
// digits and combining marks of every script are kept, '_' too, and runs of
// anything else become a single '-', trimmed at both ends. "Billing /
// Invoices" becomes "billing-invoices", "Café" "café", and the Cyrillic
// "bіlling" stays distinct from the Latin "billing".
func Slug(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	dash, kept := false, false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_',
			kept && !dash && unicode.IsMark(r):
			if dash {
				b.WriteByte('-')
				dash = false
			}
			b.WriteRune(unicode.ToLower(r))
			kept = true
		default:
			dash = kept
		}
	}
	return norm.NFKC.String(b.String())
}

// ASCIISlug is the slug rule of plaint before record format 2: ASCII letters
// and digits only, with common Latin accents folded and other letters
// dropped. The schema 0 upcaster keeps using it, so that events stored then
// read as they did.
func ASCIISlug(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			dash = false
		case r == '_':
			b.WriteByte('_')
			dash = false
		default:
			if f, ok := fold[r]; ok {
				b.WriteByte(f)
				dash = false
				continue
			}
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimRight(b.String(), "-")
}

var fold = map[rune]byte{
	'à': 'a', 'á': 'a', 'â': 'a', 'ä': 'a', 'ã': 'a', 'å': 'a', 'ç': 'c', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ñ': 'n', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'ö': 'o', 'õ': 'o', 'ø': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ý': 'y', 'ÿ': 'y', 'ß': 's',
	'À': 'a', 'Á': 'a', 'Â': 'a', 'Ä': 'a', 'Ã': 'a', 'Å': 'a', 'Ç': 'c', 'È': 'e', 'É': 'e', 'Ê': 'e', 'Ë': 'e',
	'Ì': 'i', 'Í': 'i', 'Î': 'i', 'Ï': 'i', 'Ñ': 'n', 'Ò': 'o', 'Ó': 'o', 'Ô': 'o', 'Ö': 'o', 'Õ': 'o', 'Ø': 'o',
	'Ù': 'u', 'Ú': 'u', 'Û': 'u', 'Ü': 'u', 'Ý': 'y',
}

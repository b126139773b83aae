package domain

import (
	"strings"
	"unicode"
)

// MaxSlugLen is the longest slug plaint accepts.
const MaxSlugLen = 64

// Slug normalises a category, segment, channel or other dimension value:
// lower case ASCII letters and digits, with runs of anything else turned into a
// single '-', trimmed of leading and trailing '-'. "Billing / Invoices" becomes
// "billing-invoices". Letters with diacritics lose them when they map to ASCII
// simply; other letters are dropped.
func Slug(s string) string {
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

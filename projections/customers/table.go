package customers

import "github.com/plaint/plaint/internal/strtab"

// Table gives the strings a state holds (segments, categories, channels,
// reasons, competitors, currencies) small local ids. Id 0 is the empty
// string, meaning absent. The table is saved with the state, so the state
// never depends on another component's ids. It is safe for concurrent use.
type Table = strtab.Table

// NewTable returns a table holding only the empty string.
func NewTable() *Table { return strtab.New() }

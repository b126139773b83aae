package csv

import "errors"

// ErrMapping is returned, wrapped with every problem (joined), when a
// mapping is invalid: when it does not parse, names unknown keys or fields,
// or has values out of their range (ParseMapping, LoadMapping,
// Mapping.Validate), or when it does not fit the CSV file's header
// (Import). Test for it with errors.Is. A rejected row is a
// *RowError instead.
var ErrMapping = errors.New("invalid mapping")

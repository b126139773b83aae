package synthetic

import "errors"

// ErrConfig is returned, wrapped with every problem (joined), when a Config
// is invalid: by Config.Validate, and so by Generate. Test for it with
// errors.Is.
var ErrConfig = errors.New("synthetic: invalid settings")

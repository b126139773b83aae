package synthetic

import (
	"errors"
	"fmt"
)

// ErrConfig is returned, wrapped with every problem (joined), when a Config
// is invalid: by Config.Validate, and so by Generate. Test for it with
// errors.Is.
var ErrConfig = errors.New("synthetic: invalid settings")

// invalid returns nil when problems is empty, else ErrConfig wrapped with
// every problem.
func invalid(problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(problems...))
}

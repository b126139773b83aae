// Package problems joins the problems a validation found under the
// sentinel error callers test for.
package problems

import (
	"errors"
	"fmt"
)

// Join returns nil when problems is empty, else an error that wraps
// sentinel and every problem (errors.Is finds each), written as the
// sentinel's text followed by the problems, one a line.
func Join(sentinel error, problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", sentinel, errors.Join(problems...))
}

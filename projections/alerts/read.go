package alerts

import (
	"context"
	"fmt"

	"github.com/plaint/plaint/projections"
)

// Read brings the detector's projection up to the end of the log and
// returns its alert events, oldest first.
func Read(ctx context.Context, e *projections.Engine) ([]Event, error) {
	var out []Event
	err := e.Read(ctx, Name, func(f projections.Fold, _ uint64) error {
		af, ok := f.(*fold)
		if !ok {
			return fmt.Errorf("projection %s is a %T, not the detector", Name, f)
		}
		out = append([]Event(nil), af.st.Events...)
		return nil
	})
	return out, err
}
